"""What the generation-2 options buy (spec section 7): every bundled network on a board preset
and on its ``-gen2`` variant, side by side, as a Markdown table.

Columns: frames per second, the share of the time spent in core layers and in host layers,
the utilisation of the array's peak (useful ops of the whole network, host layers included,
over time x peak), and the DDR traffic (core and host) in MB.

Usage: python examples/gen2_table.py [BOARD ...]     (default: zedboard)
"""

from __future__ import annotations

import sys

import accelsim
from accelsim.network import list_zoo


def rows(board: str) -> list[str]:
    out = []
    for net in list_zoo():
        cells = [net]
        for hw in (board, f"{board}-gen2"):
            try:
                t = accelsim.simulate(net, hw, record_occupancy=False).total
            except accelsim.AccelsimError as err:
                cells.append(f"rejected ({len(err.problems)} layers)")
                cells.extend([""] * 3)
                continue
            mb = (t["ddr_bytes_read"] + t["ddr_bytes_written"]) / 1e6
            cells += [
                f"{t['fps']:.1f}",
                f"{t['core_time_share']:.0%} / {t['host_time_share']:.0%}",
                f"{t['utilization']:.1%}",
                f"{mb:.1f}",
            ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def main(argv: list[str]) -> None:
    for board in argv[1:] or ["zedboard"]:
        gen2 = f"{board}-gen2"
        print(
            f"| network | {board} fps | core / host time | utilisation | DDR MB "
            f"| {gen2} fps | core / host time | utilisation | DDR MB |"
        )
        print("|---|" + "---:|" * 8)
        print("\n".join(rows(board)))
        print()


if __name__ == "__main__":
    main(sys.argv)
