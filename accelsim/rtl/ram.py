"""Block-RAM style memories as small Verilog modules the generated core instantiates.

A :class:`SyncRam` is ``depth`` words of ``width`` bits, one write port with a write enable per
``gran``-bit lane, and ``n_read`` synchronous read ports (the data of an address presented in
cycle ``t`` is there in cycle ``t + 1``; a write and a read of the same word in one cycle read
the old word). It is emitted as a behavioural Verilog module, the pattern Yosys maps onto
RAMB36/RAMB18 (or LUT RAM when small) and Verilator simulates directly, with no initial
contents: a core never reads a word it has not written.
"""

from __future__ import annotations

import re

from amaranth.hdl import Cat, ClockSignal, Elaboratable, Instance, Module, Signal

_NAME = re.compile(r"\baccelsim_ram_w(\d+)_d(\d+)_g(\d+)_r(\d+)\b")


def ram_module_name(width: int, depth: int, gran: int, n_read: int) -> str:
    return f"accelsim_ram_w{width}_d{depth}_g{gran}_r{n_read}"


def ram_module_verilog(width: int, depth: int, gran: int, n_read: int) -> str:
    """The Verilog of one memory module (see the module docstring)."""
    aw = max(1, (depth - 1).bit_length())
    lanes = width // gran
    name = ram_module_name(width, depth, gran, n_read)
    reads = "\n".join(
        f"  always @(posedge clk) rdata[{r * width} +: {width}] <= mem[raddr[{r * aw} +: {aw}]];"
        for r in range(n_read)
    )
    return f"""
module {name} (clk, we, waddr, wdata, raddr, rdata);
  input clk;
  input [{lanes - 1}:0] we;
  input [{aw - 1}:0] waddr;
  input [{width - 1}:0] wdata;
  input [{n_read * aw - 1}:0] raddr;
  output reg [{n_read * width - 1}:0] rdata;
  reg [{width - 1}:0] mem [0:{depth - 1}];
  integer i;
  always @(posedge clk)
    for (i = 0; i < {lanes}; i = i + 1)
      if (we[i]) mem[waddr][i*{gran} +: {gran}] <= wdata[i*{gran} +: {gran}];
{reads}
endmodule
"""


def ram_modules_for(verilog: str) -> str:
    """The module definitions of every memory ``verilog`` instantiates."""
    sigs = sorted({tuple(int(g) for g in mt.groups()) for mt in _NAME.finditer(verilog)})
    return "".join(ram_module_verilog(*s) for s in sigs)


class SyncRam(Elaboratable):
    """``depth`` x ``width`` bits, write enable per ``gran`` bits, ``n_read`` sync read ports."""

    def __init__(self, width: int, depth: int, *, gran: int | None = None, n_read: int = 1,
                 name: str = "ram") -> None:  # fmt: skip
        self.width = width
        self.depth = max(2, depth)
        self.gran = gran or width
        assert width % self.gran == 0
        self.n_read = n_read
        aw = max(1, (self.depth - 1).bit_length())
        self.we = Signal(width // self.gran, name=f"{name}_we")
        self.waddr = Signal(aw, name=f"{name}_waddr")
        self.wdata = Signal(width, name=f"{name}_wdata")
        self.raddr = [Signal(aw, name=f"{name}_raddr{r}") for r in range(n_read)]
        self.rdata = [Signal(width, name=f"{name}_rdata{r}") for r in range(n_read)]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        raddr = Signal(len(self.raddr[0]) * self.n_read)
        rdata = Signal(self.width * self.n_read)
        m.d.comb += raddr.eq(Cat(*self.raddr))
        for r, d in enumerate(self.rdata):
            m.d.comb += d.eq(rdata[r * self.width : (r + 1) * self.width])
        m.submodules.mem = Instance(
            ram_module_name(self.width, self.depth, self.gran, self.n_read),
            i_clk=ClockSignal("sync"),
            i_we=self.we, i_waddr=self.waddr, i_wdata=self.wdata, i_raddr=raddr,
            o_rdata=rdata,
        )  # fmt: skip
        return m

