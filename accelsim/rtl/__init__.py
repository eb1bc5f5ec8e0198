"""The conv core as synthesizable hardware (Amaranth HDL -> Verilog), its testbench and synthesis.

Spec: ``shared/spec/conv-core.md`` §1-§6 (generation 1). Blocks mirror :mod:`accelsim.hw`:
:mod:`~accelsim.rtl.arbiter` (AXI port), :mod:`~accelsim.rtl.weight_loader` (loader + two
banks), :mod:`~accelsim.rtl.feature_reader` (reader + line buffer), :mod:`~accelsim.rtl.pe_array`
(sequencer, adder tree, accumulators, thresholds), :mod:`~accelsim.rtl.output_fifo` (FIFO +
writer), wired by :mod:`~accelsim.rtl.core`. Nothing here imports the event model or the
per-cycle reference: the hardware is written from the spec.
"""
