"""Weight loader and the two ping-pong weight banks (spec sections 3.2 and 7.3).

The loader loads weight set after weight set (generation 1: one set per core layer; with
output-channel tiles or groups, one per (group, tile), spec 7.2/7.3), set ``n`` into bank
``n mod 2``, in grants of at most ``grant_bytes``, in the order the PE array consumes them, one
grant outstanding. A bank is free once the last PE cycle of the last pass that used it has
completed; the loader works ahead as far as the banks allow (set n+1 loads while set n computes).
A pass's PE array may start only when all of its set's weights are in.

The loader is a master of the AXI port (:class:`~accelsim.hw.arbiter.Master`): set ``n``'s first
request is posted once set ``n - 2``'s last pass has scheduled its last pixel and that pixel's
last cycle is over; every other request right when the previous grant completes.

Bank states for the occupancy trace: 0 free, 1 loading (first request posted), 2 ready (all
weights in), 3 in use (first PE cycle of the set's first pass until the last of its last).
"""

from __future__ import annotations

from collections.abc import Sequence

from accelsim.hw.channels import DONE, NOT_YET, PassChannels, WeightSetState

FREE, LOADING, READY, IN_USE = 0, 1, 2, 3


class WeightLoader:
    """The weight stream's master for the whole network."""

    def __init__(self, sets: Sequence[WeightSetState], start: int = 0) -> None:
        self.sets = list(sets)
        assert all(ws.wset.nbytes > 0 for ws in self.sets), "every weight set has bytes to load"
        self.n = 0  # set being loaded
        self.j = 0  # its next grant
        self.free_at = start
        self._bank_user: PassChannels | None = None  # whose last pixel frees set n's bank
        self._bank_px = 0
        self.wait_ch: PassChannels | None = None  # NOT_YET until wait_ch schedules wait_px
        self.wait_px = 0

    def post_time(self) -> int:
        """Cycle the next request is posted; NOT_YET while unknown, DONE when nothing is left."""
        n = self.n
        if self.j or n < 2:
            return self.free_at if n < len(self.sets) else DONE
        last = self._bank_user
        if last is None:
            if n >= len(self.sets):
                return DONE
            last = self._bank_user = self.sets[n - 2].users[-1]
            self._bank_px = last.n_px
        if last.px_scheduled < self._bank_px:
            self.wait_ch, self.wait_px = last, self._bank_px - 1
            return NOT_YET
        self.wait_ch = None
        t = last.px_end.item(-1)
        return t if t > self.free_at else self.free_at

    def take(self, posted: int) -> tuple[int, int, int, bool]:
        """The request (posted at ``posted``) is granted now: (owner, address, bytes, write)."""
        ws = self.sets[self.n]
        if self.j == 0:
            ws.first_request = posted
        w = ws.wset
        off = self.j * w.grant_bytes  # the set's grants, in order (WeightSet.grants)
        return w.layer, w.address + off, min(w.grant_bytes, w.nbytes - off), False

    def done(self, end: int) -> None:
        """The grant completed at ``end``; the set is ready after its last grant."""
        self.free_at = end
        self.j += 1
        ws = self.sets[self.n]
        if self.j * ws.wset.grant_bytes >= ws.wset.nbytes:
            self.n += 1
            self.j = 0
            self._bank_user = None
            ws.loaded(end)
