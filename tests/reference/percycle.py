"""A deliberately plain per-cycle model of the conv core, the test oracle for the event simulator.

It steps every cycle and shares nothing with ``accelsim.hw`` or ``accelsim.mapping``'s layout
and geometry: only the DDR model and the config / placement objects (which layers run where,
the layer objects, a host layer's time). Everything else -- each core layer's geometry, its
passes (groups x tiles x strips), the rows and columns read, read chunks and their addresses,
which chunk completes each window, which pixel frees each slot, the fused pool's emission order
and FIFO reservations, write segments and addresses, weight sets and their banks, the DDR
addresses, the occupancies of spec section 4 -- is computed here, written out from spec
sections 3 and 7 and the lead's rules note (/work/notes/gen2-rules.md, "the rules" below). The
placement's figures are checked against the rules' (:func:`core_geometry`), and so are its
verdicts (:func:`expected_where`).

Two readings where the rules leave a gap (reported to the lead): a pass also waits for its PE's
last pixel (:meth:`_Pass.done`); a conv whose input row exceeds a slot "needs strips" even when
one strip covers it, so its pool stays on the host (:func:`expected_where`).

Within a cycle ``t``, in this order:

1. the grant ending at ``t`` completes (data usable, FIFO groups released, weights in), and
   the pixel ending at ``t`` is done;
2. a pass whose last write has completed and whose PE is past its last pixel ends: the layer's
   next pass starts at ``t``, or the layer ends and the next layer starts at ``t`` (a host
   layer takes its modelled time, a fused pool none);
3. the PE array: if idle, the next pixel starts if weights, input and FIFO space are there,
   otherwise the cycle is a stall charged to the first missing;
4. post-processed groups due at ``t`` enter the FIFO;
5. reader, writer and weight loader post a request if they have none and their condition holds;
6. the arbiter picks a waiting request if the port is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accelsim.config.schema import STREAMS, HwConfig
from accelsim.mapping import LayerPlan, Placement
from accelsim.network.model import INPUT, Layer, Network


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class RefLayer:
    name: str
    kind: str
    start: int = -1
    end: int = -1
    busy: int = 0
    stalls: dict = field(default_factory=lambda: {"weights": 0, "input": 0, "output": 0})
    bytes_features: int = 0  # bytes of the grants this layer owns, by stream
    bytes_weights: int = 0
    bytes_written: int = 0


@dataclass(frozen=True)
class RefGrant:
    """One grant as the reference served it."""

    stream: str
    owner: int  # layer index
    posted: int
    start: int
    end: int
    address: int
    nbytes: int


# occupancies (spec section 4), kept per cycle as a list indexed by these
OCCUPANCIES = (
    "line_buffer_bytes", "output_fifo_groups", "pool_buffer_bytes", "weight_bank0_bytes",
    "weight_bank1_bytes", "weight_bank0_state", "weight_bank1_state", "ddr_waiting_requests",
)  # fmt: skip
LB, FIFO, POOL, BANK_BYTES, BANK_STATE, QUEUE = 0, 1, 2, 3, 5, 7


# --- geometry, from the rules note, written out plainly ---------------------------------------


@dataclass(frozen=True)
class Geometry:
    """One core layer as the machine sees it (rules sections 2-4)."""

    H: int
    W: int
    Ho: int  # the conv's output (before a fused pool)
    Wo: int
    k: int
    s: int
    p: int
    g: int
    n_ib: int
    n_ob: int
    d: int
    steps: int
    P: int  # bit-serial passes
    wob: int  # weight bytes of one ob batch
    m: int  # ob batches per tile
    T: int  # tiles
    strips: tuple[tuple[int, int], ...] | None  # None: no strip of one column fits a slot
    in_group: int
    out_group: int
    # fused pool: kernel, stride, padding, pooled map (0 when none)
    kp: int = 0
    sp: int = 0
    pp: int = 0
    Hp: int = 0
    Wp: int = 0

    @property
    def pooled(self) -> bool:
        return self.kp > 0

    @property
    def out_hw(self) -> tuple[int, int]:
        """The map the layer writes: pooled when a pool is fused."""
        return (self.Hp, self.Wp) if self.pooled else (self.Ho, self.Wo)


def fetched_rows(H: int, Ho: int, k: int, s: int, p: int) -> list[int]:
    """Input rows some output row reads, in increasing order (rules section 6)."""
    rows = set()
    for y in range(Ho):
        for r in range(s * y - p, s * y - p + k):
            if 0 <= r < H:
                rows.add(r)
    return sorted(rows)


def fetched_columns(W: int, x0: int, x1: int, k: int, s: int, p: int) -> tuple[int, int]:
    """First and last input column the output columns x0..x1 read (rules section 3)."""
    return max(0, s * x0 - p), min(W - 1, s * x1 - p + k - 1)


def greedy_strips(
    W: int, Wo: int, k: int, s: int, p: int, px_bytes: int, slot: int
) -> tuple[tuple[int, int], ...] | None:
    """Column strips, widest first from the left (rules section 3); None if one column is too
    wide for a slot."""
    out = []
    x0 = 0
    while x0 < Wo:
        x1 = x0 - 1
        while x1 + 1 < Wo:
            lo, hi = fetched_columns(W, x0, x1 + 1, k, s, p)
            if (hi - lo + 1) * px_bytes > slot:
                break
            x1 += 1
        if x1 < x0:
            return None
        out.append((x0, x1))
        x0 = x1 + 1
    return tuple(out)


def pool_emitters(Ho: int, Wo: int, kp: int, sp: int, pp: int, Hp: int, Wp: int) -> list[int]:
    """For each pooled pixel of one image (raster order), the conv pixel (raster index) that
    emits it: the running maximum of the windows' completing conv pixels (rules section 4)."""
    out = []
    run = -1
    for py in range(Hp):
        for px in range(Wp):
            cy = min(Ho - 1, py * sp - pp + kp - 1)
            cx = min(Wo - 1, px * sp - pp + kp - 1)
            run = max(run, cy * Wo + cx)
            out.append(run)
    return out


def pool_openers(Ho: int, Wo: int, kp: int, sp: int, pp: int, Hp: int, Wp: int) -> list[int]:
    """For each pooled pixel of one image, its first conv pixel (the window's clipped top-left)."""
    return [
        max(0, py * sp - pp) * Wo + max(0, px * sp - pp) for py in range(Hp) for px in range(Wp)
    ]


def pool_needs(Ho: int, Wo: int, kp: int, sp: int, pp: int) -> tuple[int, int]:
    """(most pooled pixels open at once, most pooled pixels one conv pixel emits), per image:
    the pool buffer holds the first times m groups, the FIFO must take the second times m."""
    Hp = (Ho + 2 * pp - kp) // sp + 1
    Wp = (Wo + 2 * pp - kp) // sp + 1
    em = pool_emitters(Ho, Wo, kp, sp, pp, Hp, Wp)
    op = pool_openers(Ho, Wo, kp, sp, pp, Hp, Wp)
    most_open = 0
    for i in range(Ho * Wo):
        n_open = sum(1 for f in op if f <= i) - sum(1 for e in em if e <= i)
        most_open = max(most_open, n_open)
    most_emitted = max(em.count(i) for i in range(Ho * Wo))
    return most_open, most_emitted


def layer_geometry(lay: Layer, hw: HwConfig, pool: Layer | None = None) -> Geometry:
    """The rules' geometry of a conv or fc layer on ``hw`` (sections 2-3), ``pool`` fused.
    Where the layer breaks a limit: ``m`` 0 (one ob batch over a bank), ``strips`` None (no
    strip of one output column fits a slot)."""
    core = hw.core
    if lay.type == "fc":
        H = W = Ho = Wo = 1
        c_in = lay.in_h * lay.in_w * lay.in_c
        k, s, p, g = 1, 1, 0, 1
    else:
        H, W, c_in = lay.in_shape
        Ho, Wo = (
            (H + 2 * lay.padding - lay.kernel) // lay.stride + 1,
            (W + 2 * lay.padding - lay.kernel) // lay.stride + 1,
        )
        k, s, p, g = lay.kernel, lay.stride, lay.padding, lay.groups
    n_ib = _cdiv(c_in // g, core.ic_batch)
    n_ob = _cdiv(lay.out_c // g, core.oc_batch)
    d = _cdiv(k, 3)
    packed = core.pack_1x1 and k == 1
    steps = _cdiv(n_ib, 9) if packed else n_ib
    P = _cdiv(lay.in_bits, core.feature_bits) * _cdiv(lay.weight_bits, core.weight_bits)
    wob = 9 * d * d * steps * core.ic_batch * core.oc_batch * lay.weight_bits // 8
    in_group = core.ic_batch * lay.in_bits // 8
    out_group = core.oc_batch * lay.out_bits // 8
    m, T = n_ob, 1
    if hw.weight_buffer.tiling and n_ob * wob > hw.weight_buffer.bank_bytes:
        m = hw.weight_buffer.bank_bytes // wob
        T = _cdiv(n_ob, m) if m else 0
    strips: tuple[tuple[int, int], ...] | None = ((0, Wo - 1),)
    if hw.line_buffer.column_strips and W * n_ib * in_group > hw.line_buffer.row_bytes:
        strips = greedy_strips(W, Wo, k, s, p, n_ib * in_group, hw.line_buffer.row_bytes)
    shape = {}
    if pool is not None:
        kp, sp, pp = pool.kernel, pool.stride, pool.padding
        shape = dict(
            kp=kp, sp=sp, pp=pp,
            Hp=(Ho + 2 * pp - kp) // sp + 1, Wp=(Wo + 2 * pp - kp) // sp + 1,
        )  # fmt: skip
    return Geometry(
        H=H, W=W, Ho=Ho, Wo=Wo, k=k, s=s, p=p, g=g, n_ib=n_ib, n_ob=n_ob, d=d, steps=steps, P=P,
        wob=wob, m=m, T=T, strips=strips, in_group=in_group, out_group=out_group, **shape,
    )  # fmt: skip


def core_geometry(plan: LayerPlan, hw: HwConfig, network: Network) -> Geometry:
    """The rules' geometry of a core layer, computed from the layer and the config; every figure
    the placement also holds must agree with it (an AssertionError names the field)."""
    lay = plan.layer
    pool = network.layers[plan.pool.index] if plan.pool is not None else None
    geo = layer_geometry(lay, hw, pool)
    assert geo.m > 0, f"{lay.name}: placed on the core with one ob batch over a bank"
    assert geo.strips is not None, f"{lay.name}: placed on the core with no strip fitting"
    oh, ow = geo.out_hw
    mine = {
        "in_h": geo.H, "in_w": geo.W, "out_h": geo.Ho, "out_w": geo.Wo, "kernel": geo.k,
        "stride": geo.s, "padding": geo.p, "groups": geo.g, "n_ib": geo.n_ib, "n_ob": geo.n_ob,
        "passes": geo.P, "sub_kernels": geo.d**2, "packed": hw.core.pack_1x1 and geo.k == 1,
        "steps": geo.steps, "ob_weight_bytes": geo.wob, "tile_obs": geo.m, "tiles": geo.T,
        "strips": geo.strips, "in_group_bytes": geo.in_group, "out_group_bytes": geo.out_group,
        "weight_bytes": geo.g * geo.n_ob * geo.wob,
        "in_bytes": geo.H * geo.W * geo.g * geo.n_ib * geo.in_group,
        "out_bytes": oh * ow * geo.g * geo.n_ob * geo.out_group,
    }  # fmt: skip
    for name, value in mine.items():
        assert getattr(plan, name) == value, (
            f"{lay.name}: placement's {name} {getattr(plan, name)} != rules' {value}"
        )
    if geo.pooled:
        assert pool is not None and pool.inputs == (lay.name,), lay.name
        assert (plan.pool.out_h, plan.pool.out_w) == (oh, ow) == pool.out_shape[:2], lay.name
    return geo


def expected_where(network: Network, hw: HwConfig) -> list[str]:
    """Where the rules put each layer (sections 1 and 4): core, host, rejected or fused."""
    core = hw.core
    kd = core.kernel_decomposition
    where = []
    geos: dict[str, Geometry] = {}
    for lay in network.layers:
        if lay.type == "fc":
            cand = kd
        elif lay.type == "conv":
            k, s, p = lay.kernel, lay.stride, lay.padding
            if kd:
                cand = k in (1, 3, 5, 7) and s in (1, 2) and 0 <= p <= k - 1
            else:
                cand = k == 3 and s in (1, 2) and p in (0, 1) and lay.groups == 1
        else:
            cand = False
        if not cand or lay.out_bits > core.feature_bits:
            where.append("host")
            continue
        geo = layer_geometry(lay, hw)
        wide = not core.bit_serial and (
            lay.in_bits > core.feature_bits or lay.weight_bits > core.weight_bits
        )
        rejected = (
            wide
            or hw.line_buffer.rows < geo.k
            or geo.m == 0
            or (geo.n_ob * geo.wob > hw.weight_buffer.bank_bytes and not hw.weight_buffer.tiling)
            or geo.strips is None
            or (geo.W * geo.n_ib * geo.in_group > hw.line_buffer.row_bytes
                and not hw.line_buffer.column_strips)
            or hw.output_fifo.groups < geo.m
            or hw.axi.grant_bytes < max(geo.in_group, geo.out_group)
        )  # fmt: skip
        where.append("rejected" if rejected else "core")
        geos[lay.name] = geo
    if core.fused_pool:
        readers: dict[str, int] = {}
        for lay in network.layers:
            for src in set(lay.inputs):
                readers[src] = readers.get(src, 0) + 1
        index = {lay.name: i for i, lay in enumerate(network.layers)}
        for i, lay in enumerate(network.layers):
            if lay.type != "maxpool" or len(lay.inputs) != 1 or lay.inputs[0] not in index:
                continue
            src = lay.inputs[0]
            if where[index[src]] != "core" or readers[src] != 1 or lay.global_pool:
                continue
            kp, sp, pp = lay.kernel, lay.stride, lay.padding
            if kp not in (2, 3) or sp not in (1, 2) or pp >= kp:
                continue
            geo = geos[src]
            # "L needs no strips": spec 7.4, a layer whose input row exceeds a slot runs in
            # strips, even if one strip covers every column it reads
            if geo.W * geo.n_ib * geo.in_group > hw.line_buffer.row_bytes:
                continue
            most_open, most_emitted = pool_needs(geo.Ho, geo.Wo, kp, sp, pp)
            if most_open * geo.m * geo.out_group > core.pool_buffer_bytes:
                continue
            if most_emitted * geo.m > hw.output_fifo.groups:
                continue
            where[i] = "fused"
    return where


# --- one pass of a core layer ------------------------------------------------------------------


class _Pass:
    """Pass (group j, tile t, strip x0..x1) of a core layer: its plan and per-cycle state."""

    def __init__(
        self, li: int, geo: Geometry, j: int, t: int, x0: int, x1: int, batch: int,
        hw: HwConfig, in_base: int, out_base: int, wset: int,
    ) -> None:  # fmt: skip
        H, W, Ho, Wo = geo.H, geo.W, geo.Ho, geo.Wo
        k, s, p, n_ib = geo.k, geo.s, geo.p, geo.n_ib
        self.li = li
        self.wset = wset
        self.rows = hw.line_buffer.rows
        self.cap = hw.output_fifo.groups
        self.lat = hw.core.pipeline_latency_cycles
        ob_lo = t * geo.m
        self.m = min(geo.n_ob, ob_lo + geo.m) - ob_lo
        self.step = geo.d * geo.d * geo.steps * geo.P
        self.cpp = self.m * self.step
        nx = x1 - x0 + 1
        self.n_px = batch * Ho * nx

        # reader: fetched rows, columns c_lo..c_hi, segments, chunks (rules section 6)
        rows_img = fetched_rows(H, Ho, k, s, p)
        rpi = len(rows_img)
        c_lo, c_hi = fetched_columns(W, x0, x1, k, s, p)
        gi = max(1, hw.axi.grant_bytes // geo.in_group)
        px_in = geo.g * n_ib * geo.in_group
        slice_off = j * n_ib * geo.in_group
        chunks: list[tuple[int, int, int, int]] = []  # (address, bytes, fetched row R, last col)
        last_chunk: dict[tuple[int, int], int] = {}  # (R, column) -> chunk with its last group
        for b in range(batch):
            for ir, r in enumerate(rows_img):
                R = b * rpi + ir
                if geo.g == 1:  # one segment: the row's columns c_lo..c_hi
                    seg = in_base + ((b * H + r) * W + c_lo) * px_in
                    n = (c_hi - c_lo + 1) * n_ib
                    first = len(chunks)
                    for g0 in range(0, n, gi):
                        g1 = min(n, g0 + gi)
                        col = c_lo + (g1 - 1) // n_ib
                        chunks.append((seg + g0 * geo.in_group, (g1 - g0) * geo.in_group, R, col))
                    for c in range(c_lo, c_hi + 1):
                        last_chunk[(R, c)] = first + ((c - c_lo) * n_ib + n_ib - 1) // gi
                else:  # one segment per column: the pixel's slice of group j
                    for c in range(c_lo, c_hi + 1):
                        seg = in_base + ((b * H + r) * W + c) * px_in + slice_off
                        for g0 in range(0, n_ib, gi):
                            g1 = min(n_ib, g0 + gi)
                            chunks.append((seg + g0 * geo.in_group, (g1 - g0) * geo.in_group, R, c))
                        last_chunk[(R, c)] = len(chunks) - 1
        self.chunks = chunks
        self.n_chunks = len(chunks)
        # a chunk of fetched row R >= rows overwrites fetched row R - rows: the output pixel
        # that last reads (that row, the chunk's last column) must have finished
        self.free_px = []
        for _, _, R, c in chunks:
            if R < self.rows:
                self.free_px.append(-1)
                continue
            b, ir = divmod(R - self.rows, rpi)
            r = rows_img[ir]
            y = min(Ho - 1, (r + p) // s)
            x = min(x1, (c + p) // s)
            self.free_px.append((b * Ho + y) * nx + (x - x0))
        # line-buffer occupancy: a stored pixel leaves (its n_ib groups at once) when its
        # last chunk has come and the output pixel that frees it has finished
        self.px_bytes = n_ib * geo.in_group
        self.stored_by_chunk: list[list[int]] = [[] for _ in chunks]
        for (R, c), kk in last_chunk.items():
            b, ir = divmod(R, rpi)
            y = min(Ho - 1, (rows_img[ir] + p) // s)
            x = min(x1, (c + p) // s)
            self.stored_by_chunk[kk].append((b * Ho + y) * nx + (x - x0))
        self.lb_waiting = [0] * (batch * Ho * nx)  # arrived stored pixels each pixel frees
        # output pixel i's window is usable once the chunk with the last group of its
        # bottom-right stored pixel has completed
        self.window_chunk = []
        for i in range(self.n_px):
            b, rem = divmod(i, Ho * nx)
            y, xi = divmod(rem, nx)
            rr = min(H - 1, s * y - p + k - 1)
            cc = min(c_hi, s * (x0 + xi) - p + k - 1)
            self.window_chunk.append(last_chunk[(b * rpi + rows_img.index(rr), cc)])

        # output pixels, FIFO reservations, write segments (rules sections 4, 5)
        oh, ow = geo.out_hw
        out_px: list[tuple[int, int, int]] = []
        if geo.pooled:
            em = pool_emitters(Ho, Wo, geo.kp, geo.sp, geo.pp, geo.Hp, geo.Wp)
            op = pool_openers(Ho, Wo, geo.kp, geo.sp, geo.pp, geo.Hp, geo.Wp)
            self.q = [0] * self.n_px
            self.opens = [0] * self.n_px  # pooled pixels each conv pixel opens
            for b in range(batch):
                for o, (e, f) in enumerate(zip(em, op, strict=True)):
                    self.q[b * Ho * Wo + e] += 1
                    self.opens[b * Ho * Wo + f] += 1
                    out_px.append((b, o // ow, o % ow))
            row_w = ow
        else:
            self.q = [1] * self.n_px
            out_px = [(b, y, x) for b in range(batch) for y in range(Ho) for x in range(x0, x1 + 1)]
            row_w = nx
        px_out = geo.g * geo.n_ob * geo.out_group
        self.ogb = geo.out_group
        self.out_addr = [
            out_base + ((b * oh + y) * ow + x) * px_out + (j * geo.n_ob + ob_lo) * geo.out_group
            for b, y, x in out_px
        ]
        self.n_groups = len(out_px) * self.m
        self.seg = row_w * self.m if geo.T == 1 and geo.g == 1 else self.m
        self.go = max(1, hw.axi.grant_bytes // geo.out_group)
        self.full = self.cap - max(self.q) * self.m + 1  # the pass's largest reservation
        self.pooled = geo.pooled

        # state
        self.start = -1
        self.end = -1
        self.chunks_done = 0
        self.next_chunk = 0
        self.px_next = 0
        self.px_end = [-1] * self.n_px
        self.cur_end = -1  # end of the pixel in progress
        self.last_end = -1  # end of the last pixel, once it has started
        self.taken = 0  # FIFO groups reserved (pipeline + FIFO), released on write completion
        self.arrivals: dict[int, int] = {}  # time -> groups entering the FIFO then
        self.arrived = 0  # groups in the FIFO, not yet handed to a write grant
        self.written = 0  # groups handed to write grants (completed or in flight)
        self.completed = 0

    def done(self, t: int) -> bool:
        """Whether the pass is over at ``t``: every write completed, and the PE past its last
        pixel. The rules end a pass at its last write. With a fused pool whose windows leave
        the last conv rows or columns out, those conv pixels emit nothing, and the last write
        can complete while they still compute (or their rows are still being read); the next
        pass would then start beside them on the one PE array. Read here (and in the event
        model) as: a pass also waits for its PE's last pixel. Generation 1 is unchanged: its
        last write always follows its last pixel."""
        return self.completed == self.n_groups and self.px_next == self.n_px and self.last_end <= t


def _addresses(
    placement: Placement, geos: dict[int, Geometry]
) -> tuple[dict[str, int], dict[str, int]]:
    """DDR bases (rules section 8): features from feature_base (the input first), weights from
    weight_base, one block per core layer, each rounded up to align_bytes."""
    hw = placement.hw
    net = placement.network
    al = hw.memory.align_bytes
    batch = net.batch
    feat = {INPUT: hw.memory.feature_base}
    first = placement.plans[0]
    h, w, c = net.input_shape
    nin = 0
    if first.where == "core":
        f = geos[first.index]
        nin = f.H * f.W * f.g * f.n_ib * f.in_group
    nin = max(nin, _cdiv(h * w * c * net.input_bits, 8)) * batch
    nxt = hw.memory.feature_base + _cdiv(nin, al) * al
    wts = {}
    wn = hw.memory.weight_base
    for p in placement.plans:
        if p.where == "fused":
            feat[p.name] = feat[p.fused_into]
            continue
        feat[p.name] = nxt
        if p.where == "core":
            g = geos[p.index]
            oh, ow = g.out_hw
            out_bytes = oh * ow * g.g * g.n_ob * g.out_group
            wts[p.name] = wn
            wn += _cdiv(g.g * g.n_ob * g.wob, al) * al
        else:
            out_bytes = p.out_bytes
        nxt += _cdiv(max(out_bytes, 1) * batch, al) * al
    return feat, wts


def reference_run(
    placement: Placement,
    ddr: object,
    max_cycles: int = 5_000_000,
    grants: list[RefGrant] | None = None,
    traces: dict[str, list[tuple[int, int]]] | None = None,
) -> list[RefLayer]:
    """Run the network cycle by cycle; return per-layer start/end/busy/stalls/bytes.

    ``grants``, if given, receives every grant in the order the arbiter served them.
    ``traces``, if given, receives the occupancies of spec section 4 at the end of every cycle,
    as ``(cycle, value)`` at each change (from ``(0, value at 0)``): ``line_buffer_bytes``,
    ``output_fifo_groups``, ``pool_buffer_bytes``, ``weight_bank{0,1}_bytes``,
    ``weight_bank{0,1}_state`` (0 free, 1 loading, 2 ready, 3 in use) and
    ``ddr_waiting_requests``.
    """
    hw = placement.hw
    batch = placement.network.batch
    plans = list(placement.plans)
    assert all(p.where != "rejected" for p in plans), "the reference runs placeable networks"
    geos = {p.index: core_geometry(p, hw, placement.network) for p in plans if p.where == "core"}
    feat, wts = _addresses(placement, geos)
    out = [RefLayer(p.name, p.where) for p in plans]

    # passes (group j outer, tile t, strip inner) and weight sets (one per (layer, j, t))
    passes: dict[int, list[_Pass]] = {}
    wsets: list[tuple[int, int, int]] = []  # (layer, address, bytes)
    wset_last: list[_Pass] = []  # the last pass computing from each set
    for p in plans:
        if p.where != "core":
            continue
        geo = geos[p.index]
        lst = []
        for j in range(geo.g):
            for t in range(geo.T):
                m_t = min(geo.n_ob, (t + 1) * geo.m) - t * geo.m
                wsets.append((p.index, wts[p.name] + (j * geo.n_ob + t * geo.m) * geo.wob,
                              m_t * geo.wob))  # fmt: skip
                for x0, x1 in geo.strips:
                    lst.append(_Pass(
                        p.index, geo, j, t, x0, x1, batch, hw, feat[p.layer.inputs[0]],
                        feat[p.name], len(wsets) - 1,
                    ))  # fmt: skip
                wset_last.append(lst[-1])
        passes[p.index] = lst
    weights_ready = [False] * len(wsets)
    wset_first = {}  # the first pass computing from each set
    for lst in passes.values():
        for ps in lst:
            wset_first.setdefault(ps.wset, ps)
    # occupancies (spec 4)
    occ = [0] * len(OCCUPANCIES)
    last_occ = [-1] * len(OCCUPANCIES)
    pool_events: dict[int, int] = {}  # cycle -> pool-buffer bytes opened minus emitted
    if traces is not None:
        traces.clear()
        traces.update({name: [] for name in OCCUPANCIES})
    wl_set = 0  # the set the loader is on
    wl_offset = 0

    # port
    n_streams = len(STREAMS)
    sid = {s: i for i, s in enumerate(STREAMS)}
    f_s, o_s, w_s = sid["features"], sid["outputs"], sid["weights"]
    waiting: list[tuple | None] = [None] * n_streams
    outstanding = [False] * n_streams
    grant: tuple | None = None  # (end, stream, payload)
    rr = 0
    prio = [sid[s] for s in hw.axi.priority]
    cur = 0  # current layer index
    cur_pass = 0  # its pass

    def enter(li: int, t: int) -> None:
        out[li].start = t
        where = plans[li].where
        if where == "host":
            out[li].end = t + plans[li].host_cycles * batch
        elif where == "fused":
            out[li].end = t
        else:
            passes[li][0].start = t

    def record(t: int) -> None:
        """End of cycle ``t``: the occupancies."""
        occ[POOL] += pool_events.pop(t, 0)
        if traces is not None and occ != last_occ:
            for i, name in enumerate(OCCUPANCIES):
                if occ[i] != last_occ[i]:
                    traces[name].append((t, occ[i]))
            last_occ[:] = occ

    enter(0, 0)
    t = 0
    while True:
        if t > max_cycles:
            raise RuntimeError(f"reference model did not finish within {max_cycles} cycles")
        # 1. grant completion
        if grant is not None and grant[0] == t:
            _, s, payload = grant
            grant = None
            outstanding[s] = False
            if s == f_s:
                ps, k = payload
                ps.chunks_done += 1
                occ[LB] += ps.chunks[k][1]
                for j in ps.stored_by_chunk[k]:
                    if ps.px_end[j] != -1 and ps.px_end[j] <= t:
                        occ[LB] -= ps.px_bytes
                    else:
                        ps.lb_waiting[j] += 1
            elif s == o_s:
                ps, n = payload
                ps.taken -= n
                ps.completed += n
                occ[FIFO] -= n
            else:
                n_set, last, nbytes = payload
                occ[BANK_BYTES + n_set % 2] += nbytes
                if last:
                    weights_ready[n_set] = True
                    occ[BANK_STATE + n_set % 2] += 1
        # 1b. the current pass's pixel ending at t is done (before a pass may end at t)
        if cur < len(plans) and plans[cur].where == "core":
            c = passes[cur][cur_pass]
            if c.cur_end == t:
                j = c.px_next - 1
                c.px_end[j] = t
                c.cur_end = -1
                occ[LB] -= c.lb_waiting[j] * c.px_bytes
                c.lb_waiting[j] = 0
                if j == c.n_px - 1 and wset_last[c.wset] is c:  # the set's bank is free
                    occ[BANK_BYTES + c.wset % 2] -= wsets[c.wset][2]
                    occ[BANK_STATE + c.wset % 2] -= 3
        # 2. pass and layer transitions
        while cur < len(plans):
            if plans[cur].where == "core":
                # a pass ends when its last write has completed and its PE has finished its
                # last conv pixel (see _Pass.done)
                ps = passes[cur][cur_pass]
                if not ps.done(t):
                    break
                ps.end = t
                if cur_pass + 1 < len(passes[cur]):
                    cur_pass += 1
                    passes[cur][cur_pass].start = t
                    break
                out[cur].end = t
            elif out[cur].end > t:
                break
            cur += 1
            cur_pass = 0
            if cur < len(plans):
                enter(cur, t)
        if cur >= len(plans):
            record(t)
            break
        # 3.-5. the current pass's PE array, FIFO, reader and writer
        if plans[cur].where == "core":
            c = passes[cur][cur_pass]
            rl = out[cur]
            if c.cur_end == -1 and c.px_next < c.n_px:
                i = c.px_next
                need = c.q[i] * c.m
                if not weights_ready[c.wset]:
                    rl.stalls["weights"] += 1
                elif c.chunks_done <= c.window_chunk[i]:
                    rl.stalls["input"] += 1
                elif need and c.taken + need > c.cap:
                    rl.stalls["output"] += 1
                else:
                    c.taken += need
                    occ[FIFO] += need
                    if i == 0 and wset_first[c.wset] is c:
                        occ[BANK_STATE + c.wset % 2] += 1  # in use
                    if c.pooled:
                        at = t + c.cpp + c.lat
                        opened = (c.opens[i] - c.q[i]) * c.m * c.ogb
                        pool_events[at] = pool_events.get(at, 0) + opened
                    if not c.pooled:
                        for ob in range(c.m):
                            at = t + (ob + 1) * c.step + c.lat
                            c.arrivals[at] = c.arrivals.get(at, 0) + 1
                    elif need:
                        at = t + c.cpp + c.lat
                        c.arrivals[at] = c.arrivals.get(at, 0) + need
                    c.cur_end = t + c.cpp
                    c.px_next += 1
                    if c.px_next == c.n_px:
                        c.last_end = c.cur_end
            if c.cur_end != -1:
                rl.busy += 1
            # 4. groups entering the FIFO
            c.arrived += c.arrivals.pop(t, 0)
            # 5a. reader
            if not outstanding[f_s] and c.next_chunk < c.n_chunks:
                k = c.next_chunk
                j = c.free_px[k]
                if j < 0 or (c.px_end[j] != -1 and c.px_end[j] <= t):
                    addr, nbytes, _, _ = c.chunks[k]
                    waiting[f_s] = (addr, nbytes, False, (c, k), t)
                    occ[QUEUE] += 1
                    outstanding[f_s] = True
                    c.next_chunk += 1
            # 5b. writer
            if not outstanding[o_s] and c.written < c.n_groups:
                g = c.written
                k = min(c.go, (g // c.seg + 1) * c.seg - g)
                mm = min(k, c.full)
                if c.arrived >= mm:
                    n = min(c.arrived, k)
                    c.arrived -= n
                    c.written += n
                    addr = c.out_addr[g // c.m] + (g % c.m) * c.ogb
                    waiting[o_s] = (addr, n * c.ogb, True, (c, n), t)
                    occ[QUEUE] += 1
                    outstanding[o_s] = True
        # 5c. weight loader (works ahead across passes and layers)
        if not outstanding[w_s] and wl_set < len(wsets):
            ok = True
            if wl_set >= 2:
                lp = wset_last[wl_set - 2]
                ok = lp.px_next == lp.n_px and lp.last_end <= t
            if ok:
                li, base, total = wsets[wl_set]
                n = min(hw.axi.grant_bytes, total - wl_offset)
                last = wl_offset + n == total
                waiting[w_s] = (base + wl_offset, n, False, (wl_set, last, n), t)
                occ[QUEUE] += 1
                if wl_offset == 0:
                    occ[BANK_STATE + wl_set % 2] += 1  # loading
                outstanding[w_s] = True
                wl_offset += n
                if last:
                    wl_set += 1
                    wl_offset = 0
        # 6. arbiter
        if grant is None and occ[QUEUE]:
            if hw.axi.arbitration == "priority":
                pick = next(s for s in prio if waiting[s] is not None)
            else:
                pick = next(
                    (rr + k) % n_streams
                    for k in range(n_streams)
                    if waiting[(rr + k) % n_streams] is not None
                )
                rr = (pick + 1) % n_streams
            addr, nbytes, is_write, payload, posted = waiting[pick]
            waiting[pick] = None
            occ[QUEUE] -= 1
            lat = hw.axi.latency_cycles
            end = ddr.access(t + lat, addr, nbytes, is_write)  # type: ignore[attr-defined]
            end = max(int(end), t + lat + _cdiv(nbytes, hw.axi.bytes_per_cycle))
            grant = (end, pick, payload)
            if pick == f_s:
                owner = payload[0].li
                out[owner].bytes_features += nbytes
            elif pick == o_s:
                owner = payload[0].li
                out[owner].bytes_written += nbytes
            else:
                owner = wsets[payload[0]][0]
                out[owner].bytes_weights += nbytes
            if grants is not None:
                grants.append(RefGrant(STREAMS[pick], owner, posted, t, end, addr, nbytes))
        record(t)
        t += 1
    return out
