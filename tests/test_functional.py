"""The network-level functional run (accelsim/functional.py; spec conv-core.md §2, §5).

Zoo networks run at a reduced input size (the same layers, re-inferred) on the first board
preset that fits them; one run per network is shared by the tests of this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accelsim import functional
from accelsim.cli import main
from accelsim.config.load import list_presets, load_hw
from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.functional import FunctionalResult, run_functional
from accelsim.kernels import conv3x3, dequantize_activations, dequantize_weights, quantize_weights
from accelsim.kernels.ref import dorefa_float_layer, float_conv3x3
from accelsim.mapping import place_network
from accelsim.network import list_zoo, load_network
from accelsim.network.model import INPUT, Layer, Network, infer_network

# input side of the reduced zoo networks: small, but every stride and pool still has an output
SIDES = {"dorefa-alexnet": 67, "dorefa-svhn": 40}
DEFAULT_SIDE = 32


def small(name: str, batch: int = 1) -> Network:
    net = load_network(name)
    side = SIDES.get(name, DEFAULT_SIDE)
    shape = (side, side, net.input_shape[2])
    return infer_network(net.name, shape, net.input_bits, list(net.layers), batch=batch)


def fitting_preset(net: Network) -> HwConfig | None:
    for preset in list_presets():
        hw = load_hw(preset)
        if not place_network(net, hw).problems:
            return hw
    return None


@pytest.fixture(scope="module")
def zoo_runs() -> dict[str, tuple[Network, HwConfig, FunctionalResult]]:
    runs = {}
    for name in list_zoo():
        net = small(name)
        hw = fitting_preset(net)
        if hw is not None:
            runs[name] = (net, hw, run_functional(net, hw, seed=0, check=True))
    return runs


def layer_input(result: FunctionalResult, lay: Layer) -> np.ndarray:
    return result.outputs[lay.inputs[0]]


# ------------------------------------------------------------------------------- the zoo


@pytest.mark.parametrize("name", list_zoo())
def test_zoo_network_runs_and_agrees_with_the_oracle(name: str, zoo_runs: dict) -> None:
    if name not in zoo_runs:  # no preset runs every layer: the run names the rejected layers
        net = small(name)
        with pytest.raises(AccelsimError, match=r"layer \w+: weights \d+ bytes exceed"):
            run_functional(net, load_hw("zedboard"))
        return
    net, hw, result = zoo_runs[name]
    assert result.oracle_match is True
    assert [r.name for r in result.layers] == [lay.name for lay in net.layers]
    plans = {p.name: p for p in place_network(net, hw).plans}
    n_core = 0
    for r, lay in zip(result.layers, net.layers, strict=True):
        out = result.outputs[lay.name]
        assert out.shape == (1, *lay.out_shape) == r.out_shape
        assert int(out.max()) < 2**lay.out_bits
        assert r.histogram.sum() == out.size
        assert r.where == plans[lay.name].where
        if r.where == "core":
            n_core += 1
            assert r.oracle_match is True and r.oracle_diff == 0
            assert r.passes == plans[lay.name].passes
        else:
            assert r.oracle_match is None and r.overflow_count == 0
        if lay.type in ("conv", "fc"):  # drawn parameters use more than one output level
            assert np.count_nonzero(r.histogram) >= 2, r.name
            assert result.params[lay.name].source == "random"
    assert n_core >= 1


@pytest.mark.parametrize("name", list_zoo())
def test_dorefa_float_path_equals_integer_path(name: str, zoo_runs: dict) -> None:
    """Every core layer: the float path (conv of dequantised values, batch-norm, clip,
    quantize_k) gives the codes of the integer conv with the folded thresholds."""
    if name not in zoo_runs:
        pytest.skip(f"{name} fits no preset")
    net, hw, result = zoo_runs[name]
    for lay in net.layers:
        if result.layer(lay.name).where != "core":
            continue
        p = result.params[lay.name]
        assert p.stage is not None
        x = layer_input(result, lay)[0]
        got = result.outputs[lay.name][0]
        st = p.stage
        bn = dict(gamma=st.gamma, beta=st.beta, mean=st.mean, var=st.var, eps=st.eps)
        want = dorefa_float_layer(
            x, p.codes, weight_scale=st.weight_scale, feature_bits=lay.in_bits,
            weight_bits=lay.weight_bits, out_bits=lay.out_bits, stride=lay.stride,
            padding=lay.padding, weight_encoding=p.encoding, **bn,
        )  # fmt: skip
        np.testing.assert_array_equal(got, want, err_msg=lay.name)
        # the same as a training framework computes it: a float conv of the real values
        z = float_conv3x3(
            dequantize_activations(x, lay.in_bits),
            dequantize_weights(p.codes, lay.weight_bits, st.weight_scale),
            stride=lay.stride,
            padding=lay.padding,
        )
        y = st.gamma * ((z - st.mean) / np.sqrt(st.var + st.eps)) + st.beta
        levels = 2**lay.out_bits - 1
        np.testing.assert_array_equal(got, np.rint(np.clip(y, 0, 1) * levels), err_msg=lay.name)


def test_outputs_are_deterministic_for_a_seed() -> None:
    net = small("resnet18")
    hw = load_hw("zedboard")
    a = run_functional(net, hw, seed=3)
    b = run_functional(net, hw, seed=3)
    c = run_functional(net, hw, seed=4)
    assert a.outputs.keys() == b.outputs.keys()
    for key in a.outputs:
        np.testing.assert_array_equal(a.outputs[key], b.outputs[key])
    assert any(not np.array_equal(a.outputs[k], c.outputs[k]) for k in a.outputs)


def test_given_inputs_keep_the_seeded_parameters() -> None:
    """Parameters depend on network, machine and seed only: calibration uses the seeded input."""
    net = small("tiny", batch=2)
    hw = load_hw("zedboard")
    base = run_functional(net, hw, seed=7)
    same = run_functional(net, hw, seed=7, inputs=base.outputs[INPUT])
    other = np.ascontiguousarray(base.outputs[INPUT][::-1])
    swapped = run_functional(net, hw, seed=7, inputs=other)
    for lay in net.layers:
        if lay.type in ("conv", "fc"):
            np.testing.assert_array_equal(
                base.params[lay.name].thresholds, swapped.params[lay.name].thresholds
            )
        np.testing.assert_array_equal(base.outputs[lay.name], same.outputs[lay.name])
        np.testing.assert_array_equal(base.outputs[lay.name][::-1], swapped.outputs[lay.name])


# ------------------------------------------------------------------- overflow and bit-serial


def test_overflows_are_counted_and_located_as_the_oracle_does() -> None:
    net = small("tiny", batch=2)
    for mode in ("saturate", "wrap"):
        hw = load_hw("zedboard", ["core.accumulator_bits=6", f"core.overflow={mode}"])
        result = run_functional(net, hw, check=True)
        c1 = result.layer("c1")
        assert c1.overflow_count > 0 and c1.oracle_match is True
        assert c1.first_overflow is not None and c1.first_overflow[0] == 0
        assert result.first_overflow == ("c1", *c1.first_overflow)
        assert result.overflow_count == sum(r.overflow_count for r in result.layers)
        x, p = result.outputs[INPUT][1], result.params["c1"]
        again = conv3x3(
            x, p.codes, p.thresholds, negative=p.negative, stride=1, padding=1, feature_bits=2,
            weight_bits=1, accumulator_bits=6, overflow=mode, weight_encoding="dorefa",
        )  # fmt: skip
        np.testing.assert_array_equal(result.outputs["c1"][1], again.out)


def test_twos_complement_and_bit_serial_core() -> None:
    """8-bit input and 2-bit weights on a 2-bit/1-bit array: passes, oracle agreement."""
    net = small("vgg16-s2")
    hw = load_hw("zedboard", ["core.weight_encoding=twos_complement", "core.accumulator_bits=24"])
    layers = [
        Layer(**{**lay.__dict__, "weight_bits": 2}) if i < 3 else lay
        for i, lay in enumerate(net.layers[:6])
    ]
    net = infer_network(net.name, net.input_shape, 8, layers)
    result = run_functional(net, hw, check=True)
    assert result.layer("conv1_1").passes == 8  # 4 activation x 2 weight chunks
    assert result.oracle_match is True
    assert all(p.encoding == "twos_complement" for p in result.params.values())


# -------------------------------------------------------------------------------- host layers


def _host_net(extra_pool: dict | None = None) -> Network:
    layers = [
        Layer("mp", "maxpool", (INPUT,), kernel=3, stride=1, padding=1),
        Layer("ap", "avgpool", (INPUT,), kernel=3, stride=2, padding=1),
        Layer("apq", "avgpool", ("mp",), kernel=2, stride=2, out_bits=1, extra={"quant": 1}),
        Layer("add", "add", (INPUT, "mp")),
        Layer("cat", "concat", ("apq", "ap")),
        Layer("gap", "avgpool", ("add",), global_pool=True),
    ]
    return infer_network("host", (4, 4, 2), 2, layers)


def test_host_pooling_add_concat_compute_the_documented_values() -> None:
    net = _host_net()
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, size=(4, 4, 2), dtype=np.uint8)
    r = run_functional(net, load_hw("zedboard"), inputs=x)
    out = {k: v[0] for k, v in r.outputs.items()}
    xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    mp = np.array([[xp[i : i + 3, j : j + 3].max(axis=(0, 1)) for j in range(4)] for i in range(4)])
    np.testing.assert_array_equal(out["mp"], mp)

    def rnd(num: float) -> int:  # half to even, as the host rounds
        return int(np.rint(num))

    valid = np.pad(np.ones((4, 4), int), 1)
    ap = np.zeros((2, 2, 2), int)
    for i in range(2):
        for j in range(2):
            win = xp[2 * i : 2 * i + 3, 2 * j : 2 * j + 3].astype(int)
            count = valid[2 * i : 2 * i + 3, 2 * j : 2 * j + 3].sum()  # padding not counted
            for c in range(2):
                ap[i, j, c] = rnd(win[..., c].sum() / count)
    np.testing.assert_array_equal(out["ap"], ap)
    # 2-bit maxpool output, 2x2 average requantised to 1 bit: round(sum * 1 / (4 * 3))
    apq = mp.reshape(2, 2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_array_equal(out["apq"], np.rint(apq / 12))
    np.testing.assert_array_equal(out["add"], np.minimum(x.astype(int) + mp, 3))
    # concat at 2 bits: the 1-bit codes become 0 / 3
    np.testing.assert_array_equal(out["cat"], np.concatenate([out["apq"] * 3, ap], axis=-1))
    np.testing.assert_array_equal(
        out["gap"][0, 0], [rnd(v / 16) for v in out["add"].sum(axis=(0, 1))]
    )
    assert r.layer("mp").where == "host" and r.params == {}


def test_host_conv_and_fc_integer_accumulators() -> None:
    """A grouped 1x1 conv and an fc on the host: thresholds of the integer accumulator."""
    layers = [
        Layer("g", "conv", (INPUT,), kernel=1, groups=2, out_channels=4, weight_bits=2, out_bits=2),
        Layer("fc", "fc", ("g",), out_channels=3, weight_bits=1, out_bits=12),
    ]
    net = infer_network("hostconv", (3, 3, 4), 2, layers)
    r = run_functional(net, load_hw("zedboard"), seed=5)
    x = r.outputs[INPUT][0].astype(np.int64)
    pg = r.params["g"]
    v = 2 * pg.codes.astype(np.int64) - 3
    acc = np.concatenate(
        [x[..., :2] @ v[:2, 0, 0].T, x[..., 2:] @ v[2:, 0, 0].T], axis=-1
    )  # groups of 2 channels
    levels = np.array(
        [
            [
                np.where(pg.negative, (a <= pg.thresholds.T).sum(0), (a >= pg.thresholds.T).sum(0))
                for a in row
            ]
            for row in acc
        ]
    )
    np.testing.assert_array_equal(r.outputs["g"][0], levels)
    pf = r.params["fc"]  # 12-bit output: the float stage, not thresholds
    assert pf.thresholds is None and pf.stage is not None
    assert r.outputs["fc"].dtype == np.uint16
    accf = (2 * pf.codes.astype(np.int64) - 1).reshape(3, -1) @ r.outputs["g"][0].reshape(-1)
    st = pf.stage
    y = st.gamma * ((accf * (st.weight_scale / 3) - st.mean) / np.sqrt(st.var + st.eps)) + st.beta
    np.testing.assert_array_equal(r.outputs["fc"][0, 0, 0], np.rint(np.clip(y, 0, 1) * 4095))
    assert np.count_nonzero(r.layer("fc").histogram) >= 2


# ------------------------------------------------------------------------- model parameters


def _one_conv(extra: dict, out_bits: int = 2) -> Network:
    lay = Layer(
        "c", "conv", (INPUT,), kernel=3, padding=1, out_channels=8, weight_bits=1,
        out_bits=out_bits, extra=extra,
    )  # fmt: skip
    return infer_network("model", (6, 6, 16), 2, [lay])


def test_model_weight_codes_and_thresholds_are_used_directly() -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2, size=(8, 3, 3, 16), dtype=np.uint8)
    thr = np.sort(rng.integers(-20, 20, size=(8, 2)), axis=1).astype(np.int64)  # 2 of 3 levels
    net = _one_conv({"weight_codes": codes, "thresholds": thr, "weight_scale": np.float64(0.5)})
    r = run_functional(net, load_hw("zedboard"), check=True)
    assert r.params["c"].source == "model"
    x = r.outputs[INPUT][0]
    full = np.concatenate([thr, np.full((8, 1), np.iinfo(np.int64).max)], axis=1)
    want = conv3x3(
        x, codes, full, stride=1, padding=1, feature_bits=2, weight_bits=1,
        accumulator_bits=16, overflow="saturate", weight_encoding="dorefa",
    )  # fmt: skip
    np.testing.assert_array_equal(r.outputs["c"][0], want.out)
    assert int(r.outputs["c"].max()) <= 2 and r.oracle_match


def test_model_float_weights_and_batch_norm_fold() -> None:
    rng = np.random.default_rng(3)
    w = rng.normal(size=(8, 3, 3, 16)).astype(np.float32)
    bn = dict(
        gamma=rng.uniform(-1, 1, 8), beta=rng.uniform(0.2, 0.8, 8),
        mean=rng.normal(0, 0.1, 8), var=rng.uniform(0.5, 2, 8), eps=1e-3,
    )  # fmt: skip
    net = _one_conv({"weights": w, "bn": bn})
    r = run_functional(net, load_hw("zedboard"))
    assert r.params["c"].source == "model"
    q = quantize_weights(w, 1)
    np.testing.assert_array_equal(r.params["c"].codes, q.codes)
    want = dorefa_float_layer(
        r.outputs[INPUT][0], q.codes, weight_scale=q.scale, feature_bits=2, weight_bits=1,
        out_bits=2, stride=1, padding=1, **bn,
    )  # fmt: skip
    np.testing.assert_array_equal(r.outputs["c"][0], want)
    # model weights without batch-norm or thresholds: a random batch-norm is not drawn either
    assert run_functional(_one_conv({"weights": w}), load_hw("zedboard")).params["c"].source == (
        "model"
    )
    # non-integer thresholds are not used: random batch-norm on the model's weights
    r2 = run_functional(
        _one_conv({"weights": w, "thresholds_float": np.zeros((8, 3))}), load_hw("zedboard")
    )
    assert r2.params["c"].source == "model+random"


# ------------------------------------------------------------------------------- file errors


def _save(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


@pytest.fixture
def tiny() -> Network:
    return load_network("tiny")


def _errors(fn: object, *args: object, **kwargs: object) -> list[str]:
    with pytest.raises(AccelsimError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value.problems


def test_input_file_errors(tmp_path: Path, tiny: Network) -> None:
    hw = load_hw("zedboard")
    good = np.zeros((32, 32, 16), np.uint8)
    missing = tmp_path / "nope.npz"
    assert _errors(run_functional, tiny, hw, inputs=missing) == [f"{missing}: no such file"]
    text = tmp_path / "x.npz"
    text.write_text("not numpy\n")
    npy = tmp_path / "x.npy"
    np.save(npy, good)
    for bad in (text, npy):
        assert _errors(run_functional, tiny, hw, inputs=bad) == [
            f"{bad}: not a .npz file (write it with numpy.savez)"
        ]
    p = _save(tmp_path / "other.npz", image=good)
    assert _errors(run_functional, tiny, hw, inputs=p) == [f"{p}: array 'input' is missing"]
    p = _save(tmp_path / "bad.npz", input=good[:, :, :3].astype(np.int32))
    assert _errors(run_functional, tiny, hw, inputs=p) == [
        f"{p}: array 'input' must be uint8, got int32",
        f"{p}: array 'input' must have shape (32, 32, 16) (HWC) or (1, 32, 32, 16) "
        "(NHWC, batch 1), got (32, 32, 3)",
    ]
    p = _save(tmp_path / "range.npz", input=good + 4)
    assert _errors(run_functional, tiny, hw, inputs=p) == [
        f"{p}: array 'input' has code 4, above the 2-bit maximum 3 of the network input"
    ]
    p = _save(tmp_path / "batch.npz", input=good)
    assert _errors(run_functional, tiny.with_batch(2), hw, inputs=p) == [
        f"{p}: array 'input' must have shape (2, 32, 32, 16) (NHWC, batch 2), got (32, 32, 16)"
    ]
    # NHWC with the right batch is accepted
    two = _save(tmp_path / "two.npz", input=np.stack([good, good + 1]))
    r = run_functional(tiny.with_batch(2), hw, inputs=two)
    np.testing.assert_array_equal(r.outputs[INPUT][1], good + 1)


def _tiny_weights(tiny: Network, seed: int = 0) -> dict[str, np.ndarray]:
    r = run_functional(tiny, load_hw("zedboard"), seed=seed)
    arrays = {}
    for name, p in r.params.items():
        arrays[f"{name}.weights"] = p.codes
        arrays[f"{name}.thresholds"] = p.thresholds
        arrays[f"{name}.negative"] = p.negative
    return arrays


def test_weights_file_reproduces_the_run(tmp_path: Path, tiny: Network) -> None:
    hw = load_hw("zedboard")
    base = run_functional(tiny, hw, seed=11)
    path = _save(tmp_path / "w.npz", **_tiny_weights(tiny, seed=11))
    again = run_functional(tiny, hw, seed=99, weights=path, inputs=base.outputs[INPUT])
    assert {p.source for p in again.params.values()} == {"file"}
    for lay in tiny.layers:
        np.testing.assert_array_equal(base.outputs[lay.name], again.outputs[lay.name])


def test_weights_file_errors(tmp_path: Path, tiny: Network) -> None:
    hw = load_hw("zedboard")
    arrays = _tiny_weights(tiny)
    bad = dict(arrays)
    del bad["c2.thresholds"]
    bad["c1.weights"] = np.zeros((32, 3, 3, 8), np.uint8)
    bad["c1.negative"] = np.zeros(32, np.int64)
    bad["fc.weights"] = arrays["fc.weights"] + 1
    thr = arrays["fc.thresholds"].copy()
    thr[4, 0], thr[4, 1] = 9, 2
    bad["fc.thresholds"] = thr
    bad["c3.weights"] = arrays["c1.weights"]
    p = _save(tmp_path / "w.npz", **bad)
    assert _errors(run_functional, tiny, hw, weights=p) == [
        f"{p}: array 'c1.weights' must have shape (32, 3, 3, 16) (OHWI), got (32, 3, 3, 8)",
        f"{p}: array 'c1.negative' must be bool, got int64",
        f"{p}: array 'c2.thresholds' is missing (layer c2, conv 3x3/2 p1 32->32)",
        f"{p}: array 'fc.weights' has code 2, above the 1-bit maximum 1 of layer fc",
        f"{p}: array 'fc.thresholds' must be non-decreasing per channel: channel 4 has "
        "T[0] = 9 > T[1] = 2",
        f"{p}: array 'c3.weights' names no conv or fc layer of tiny",
    ]
    bad = dict(arrays)
    bad["c1.thresholds"] = arrays["c1.thresholds"][:, :1].astype(np.int32)
    bad["c2.weights"] = arrays["c2.weights"].astype(np.int8)
    p = _save(tmp_path / "w2.npz", **bad)
    assert _errors(run_functional, tiny, hw, weights=p) == [
        f"{p}: array 'c1.thresholds' must be int64, got int32",
        f"{p}: array 'c1.thresholds' must have shape (32, 3) (C_out, 2^2 - 1), got (32, 1)",
        f"{p}: array 'c2.weights' must be uint8, got int8",
    ]


# ------------------------------------------------------------------------------------ CLI


def test_cli_functional_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "y.npz"
    code = main(
        ["run", "tiny", "--hw", "zedboard", "--quiet", "--functional", "--check",
         "--seed", "2", "--outputs", str(out)]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert "functional: tiny on zedboard, batch 1, seed 2" in text
    assert "every core layer agrees" in text
    lines = {line.split()[1]: line for line in text.splitlines() if line[:3].strip().isdigit()}
    assert "core conv" in lines["c1"] and lines["c1"].rstrip().endswith("ok")
    assert "host fc" in lines["fc"]
    want = run_functional(load_network("tiny"), load_hw("zedboard"), seed=2)
    with np.load(out) as got:
        assert sorted(got.files) == sorted([INPUT, "c1", "c2", "p1", "fc"])
        for key in got.files:
            np.testing.assert_array_equal(got[key], want.outputs[key])


def test_cli_file_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "x.npz"
    code = main(["run", "tiny", "--hw", "zedboard", "--quiet", "--functional",
                 "--inputs", str(missing)])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (f"accelsim: error: {missing}: no such file\n")


def test_cli_check_mismatch_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import accelsim.functional as functional

    real = functional.conv_core_ref

    def broken(*args: object, **kwargs: object) -> object:
        ref = real(*args, **kwargs)  # type: ignore[arg-type]
        out = ref.out.copy()
        out[0, 0, 0] ^= 1
        return ref._replace(out=out)

    monkeypatch.setattr(functional, "conv_core_ref", broken)
    code = main(["run", "tiny", "--hw", "zedboard", "--quiet", "--functional", "--check"])
    text = capsys.readouterr().out
    assert code == 1
    assert "DIFF 1" in text and "2 core layers differ (c1, c2)" in text


@pytest.mark.parametrize(
    ("bits", "encoding"), [(1, "dorefa"), (3, "dorefa"), (2, "twos_complement")]
)
def test_large_random_weights_are_drawn_in_blocks_as_one_tensor(
    bits: int, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocked draws quantise exactly as the helper does on the whole tensor."""
    import accelsim.functional as functional

    monkeypatch.setattr(functional, "DRAW_CHUNK_VALUES", 50)
    shape = (13, 3, 3, 4)
    codes, scale = functional._draw_weights(np.random.default_rng(5), shape, bits, encoding)
    child = np.random.default_rng(int(np.random.default_rng(5).integers(1 << 62)))
    w = np.concatenate(
        [child.standard_normal((1, 3, 3, 4), dtype=np.float32) for _ in range(13)]
    )  # one output channel (36 values) per block
    want_codes, want_scale = functional._quantize(w.astype(np.float64), bits, encoding)
    np.testing.assert_array_equal(codes, want_codes)
    assert scale == pytest.approx(want_scale, rel=1e-12)
    assert len(np.unique(codes)) > 1


def test_functional_options_need_functional(capsys) -> None:  # type: ignore[no-untyped-def]
    from accelsim.cli import main

    assert main(["run", "tiny", "--hw", "zedboard", "--check", "--seed", "3"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "accelsim: error: --check applies to --functional runs only",
        "accelsim: error: --seed applies to --functional runs only",
    ]


def test_bad_input_file_is_reported_before_the_simulation(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from accelsim.cli import main

    bad = tmp_path / "x.npz"
    bad.write_text("not numpy")
    assert main(["run", "tiny", "--hw", "zedboard", "--functional", "--inputs", str(bad)]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # nothing simulated or printed first
    assert out.err.splitlines() == [
        f"accelsim: error: {bad}: not a .npz file (write it with numpy.savez)"
    ]


# ------------------------------------------------------------- generation-2 options (spec 7)


@pytest.mark.parametrize("name", ["tiny", "resnet18", "dorefa-svhn", "yolov2-tiny"])
def test_gen2_core_path_agrees_with_the_oracle(name: str) -> None:
    """Decomposed kernels, packed 1x1, fc on the core and fused pools, bit for bit."""
    net = small(name)
    hw = load_hw("zedboard-gen2")
    plans = place_network(net, hw).plans
    result = run_functional(net, hw, seed=1, check=True)
    assert result.oracle_match is True
    for r, p in zip(result.layers, plans, strict=True):
        assert r.where == p.where
        if p.where == "core":
            assert r.oracle_match is True and r.oracle_diff == 0
        if p.where == "fused":  # the pool of the conv's output codes, as the host computes it
            conv = result.outputs[p.fused_into]
            np.testing.assert_array_equal(result.outputs[p.name], functional._pool(p.layer, conv))
    used = {opt for p in plans for opt in p.fits_by}
    assert used, "the reduced network exercises some generation-2 option"


def _gen2_net() -> Network:
    conv = dict(type="conv", weight_bits=1, out_bits=2)
    layers = [
        Layer(name="c5", inputs=(INPUT,), kernel=5, stride=1, padding=2, out_channels=40, **conv),
        Layer(name="pool", type="maxpool", inputs=("c5",), kernel=3, stride=2, padding=1),
        Layer(name="g2", inputs=("pool",), kernel=3, stride=1, padding=1, groups=2,
              out_channels=48, **conv),
        Layer(name="p1", inputs=("g2",), kernel=1, stride=2, padding=0, out_channels=24, **conv),
        Layer(name="c7", inputs=("p1",), kernel=7, stride=1, padding=3, out_channels=20, **conv),
        Layer(name="fc", type="fc", inputs=("c7",), out_channels=30, weight_bits=1, out_bits=2),
    ]  # fmt: skip
    return infer_network("gen2", (13, 21, 24), 2, layers, batch=2)


def test_passes_do_not_change_the_numbers() -> None:
    """Tiles, strips and groups cut a layer into passes; the outputs and the overflow count are
    those of the same layer in one pass (the first overflow follows the hardware order)."""
    net = _gen2_net()
    gen2 = {
        "core.kernel_decomposition": True, "core.pack_1x1": True, "core.fused_pool": True,
        "weight_buffer.tiling": True, "line_buffer.column_strips": True, "line_buffer.rows": 7,
        "core.ic_batch": 8, "core.oc_batch": 8, "core.accumulator_bits": 7,
    }  # fmt: skip
    roomy = load_hw("zedboard", gen2)
    cut = load_hw(
        "zedboard", {**gen2, "weight_buffer.bank_bytes": 2000, "line_buffer.row_bytes": 120}
    )
    p_roomy = {p.name: p for p in place_network(net, roomy).plans}
    p_cut = {p.name: p for p in place_network(net, cut).plans}
    assert all(p.where in ("core", "fused") for p in p_roomy.values())
    assert {p.where for p in p_cut.values()} <= {"core", "fused", "host"}
    assert max(p.tiles for p in p_cut.values()) > 1
    assert max(len(p.strips) for p in p_cut.values()) > 1
    assert p_cut["g2"].groups == 2 and p_roomy["p1"].packed
    base = run_functional(net, roomy, seed=5, check=True)
    weights = {}
    for name, prm in base.params.items():
        weights[f"{name}.weights"] = prm.codes
        weights[f"{name}.thresholds"] = prm.thresholds
        weights[f"{name}.negative"] = prm.negative
    again = run_functional(net, cut, weights=weights, inputs=base.outputs[INPUT], check=True)
    assert base.oracle_match is True and again.oracle_match is True
    for lay in net.layers:
        np.testing.assert_array_equal(base.outputs[lay.name], again.outputs[lay.name])
    for a, b in zip(base.layers, again.layers, strict=True):
        if a.where == b.where == "core":
            assert a.overflow_count == b.overflow_count, a.name
    assert base.overflow_count > 0
