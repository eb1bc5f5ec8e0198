"""The bundled network zoo (accelsim/networks/*.yaml): every network loads, with the published
layer structure, shapes, bit widths and MAC counts."""

from __future__ import annotations

from collections import Counter

import pytest

from accelsim.network import list_zoo, load_network, zoo_dir

ZOO = [
    "vgg16",
    "vgg16-s2",
    "dorefa-svhn",
    "dorefa-alexnet",
    "finn-cnv",
    "resnet18",
    "yolov2-tiny",
    "tiny",
]

INPUTS = {
    "vgg16": ((224, 224, 3), 8),
    "vgg16-s2": ((224, 224, 3), 8),
    "dorefa-svhn": ((40, 40, 3), 8),
    "dorefa-alexnet": ((224, 224, 3), 8),
    "finn-cnv": ((32, 32, 3), 8),
    "resnet18": ((224, 224, 3), 8),
    "yolov2-tiny": ((416, 416, 3), 8),
    "tiny": ((32, 32, 16), 2),
}

COUNTS = {
    "vgg16": {"conv": 13, "maxpool": 5, "fc": 3},
    "vgg16-s2": {"conv": 18},
    "dorefa-svhn": {"conv": 7, "maxpool": 2, "fc": 1},
    "dorefa-alexnet": {"conv": 5, "maxpool": 3, "fc": 3},
    "finn-cnv": {"conv": 6, "maxpool": 2, "fc": 3},
    # 1 stem + 16 block convs + 3 projections; 8 residual adds
    "resnet18": {"conv": 20, "maxpool": 1, "add": 8, "avgpool": 1, "fc": 1},
    "yolov2-tiny": {"conv": 9, "maxpool": 6},
    "tiny": {"conv": 2, "maxpool": 1, "fc": 1},
}

# Output shapes (H, W, C) worked out by hand from the papers / source files.
SHAPES = {
    "vgg16": {
        "conv1_2": (224, 224, 64),
        "pool1": (112, 112, 64),
        "conv2_2": (112, 112, 128),
        "conv3_3": (56, 56, 256),
        "conv4_3": (28, 28, 512),
        "conv5_3": (14, 14, 512),
        "pool5": (7, 7, 512),
        "fc6": (1, 1, 4096),
        "fc7": (1, 1, 4096),
        "fc8": (1, 1, 1000),
    },
    "vgg16-s2": {
        "down1": (112, 112, 64),
        "down2": (56, 56, 128),
        "down3": (28, 28, 256),
        "down4": (14, 14, 512),
        "conv5_3": (14, 14, 512),
        "down5": (7, 7, 512),
    },
    "dorefa-svhn": {
        "conv0": (36, 36, 48),  # 40 - 5 + 1
        "pool0": (18, 18, 48),
        "conv2": (18, 18, 64),
        "pool1": (9, 9, 64),
        "conv3": (7, 7, 128),  # VALID
        "conv4": (7, 7, 128),  # SAME
        "conv5": (5, 5, 128),  # VALID
        "conv6": (1, 1, 512),  # 5x5 VALID
        "fc1": (1, 1, 10),
    },
    "dorefa-alexnet": {
        "conv0": (54, 54, 96),  # (224 - 12) / 4 + 1
        "conv1": (54, 54, 256),
        "pool1": (27, 27, 256),
        "conv2": (27, 27, 384),
        "pool2": (14, 14, 384),
        "conv4": (14, 14, 256),
        "pool4": (6, 6, 256),
        "fc0": (1, 1, 4096),
        "fct": (1, 1, 1000),
    },
    "finn-cnv": {  # 32 -> 30 -> 28 -> 14 -> 12 -> 10 -> 5 -> 3 -> 1
        "conv0": (30, 30, 64),
        "conv1": (28, 28, 64),
        "pool1": (14, 14, 64),
        "conv2": (12, 12, 128),
        "conv3": (10, 10, 128),
        "pool3": (5, 5, 128),
        "conv4": (3, 3, 256),
        "conv5": (1, 1, 256),
        "fc6": (1, 1, 512),
        "fc8": (1, 1, 10),
    },
    "resnet18": {
        "conv1": (112, 112, 64),
        "maxpool": (56, 56, 64),
        "layer1_1_add": (56, 56, 64),
        "layer2_0_conv1": (28, 28, 128),
        "layer2_0_downsample": (28, 28, 128),
        "layer2_1_add": (28, 28, 128),
        "layer3_1_add": (14, 14, 256),
        "layer4_1_add": (7, 7, 512),
        "avgpool": (1, 1, 512),
        "fc": (1, 1, 1000),
    },
    "yolov2-tiny": {
        "conv1": (416, 416, 16),
        "pool1": (208, 208, 16),
        "pool4": (26, 26, 128),
        "pool5": (13, 13, 256),
        "conv6": (13, 13, 512),
        "pool6": (13, 13, 512),  # darknet's size-2 stride-1 pool keeps 13x13
        "conv7": (13, 13, 1024),
        "conv8": (13, 13, 1024),
        "conv9": (13, 13, 125),
    },
    "tiny": {"c2": (16, 16, 32), "fc": (1, 1, 10)},
}

FINAL = {
    "vgg16": ("fc8", (1, 1, 1000)),
    "vgg16-s2": ("down5", (7, 7, 512)),
    "dorefa-svhn": ("fc1", (1, 1, 10)),
    "dorefa-alexnet": ("fct", (1, 1, 1000)),
    "finn-cnv": ("fc8", (1, 1, 10)),
    "resnet18": ("fc", (1, 1, 1000)),
    "yolov2-tiny": ("conv9", (13, 13, 125)),
    "tiny": ("fc", (1, 1, 10)),
}


def _core_shaped(lay) -> bool:  # type: ignore[no-untyped-def]
    """A dense 3x3 conv, stride 1/2, padding 0/1: the geometry the core runs (spec 1, 2)."""
    return (
        lay.type == "conv"
        and lay.kernel == 3
        and lay.groups == 1
        and lay.stride in (1, 2)
        and lay.padding in (0, 1)
    )


def test_list_zoo_has_every_network() -> None:
    names = list_zoo()
    for name in ZOO:
        assert name in names
    assert names == sorted(names)


def test_zoo_files_are_yaml_in_the_package() -> None:
    for name in ZOO:
        assert (zoo_dir() / f"{name}.yaml").is_file()


@pytest.mark.parametrize("name", ZOO)
def test_loads_with_name_and_input(name: str) -> None:
    net = load_network(name)
    assert net.name == name
    shape, bits = INPUTS[name]
    assert net.input_shape == shape
    assert net.input_bits == bits
    assert net.batch == 1
    assert net.layers[0].in_bits == bits
    assert net.source == f"zoo:{name}"


@pytest.mark.parametrize("name", ZOO)
def test_layer_counts_by_type(name: str) -> None:
    net = load_network(name)
    assert dict(Counter(lay.type for lay in net.layers)) == COUNTS[name]


@pytest.mark.parametrize("name", ZOO)
def test_layer_output_shapes(name: str) -> None:
    net = load_network(name)
    for lname, shape in SHAPES[name].items():
        assert net.layer(lname).out_shape == shape, lname


@pytest.mark.parametrize("name", ZOO)
def test_final_output(name: str) -> None:
    net = load_network(name)
    lname, shape = FINAL[name]
    assert net.layers[-1].name == lname
    assert net.layers[-1].out_shape == shape


@pytest.mark.parametrize("name", ZOO)
def test_layers_chain_and_names_unique(name: str) -> None:
    net = load_network(name)
    names = [lay.name for lay in net.layers]
    assert len(names) == len(set(names))
    seen = {"input"}
    for lay in net.layers:
        assert set(lay.inputs) <= seen, lay.name
        seen.add(lay.name)


def test_vgg16_conv_macs() -> None:
    net = load_network("vgg16")
    conv = sum(lay.macs for lay in net.layers if lay.type == "conv")
    assert conv == pytest.approx(15.35e9, rel=0.005)
    fc = sum(lay.macs for lay in net.layers if lay.type == "fc")
    assert fc == 7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000


def test_resnet18_macs() -> None:
    net = load_network("resnet18")
    total = sum(lay.macs for lay in net.layers)
    assert total == pytest.approx(1.81e9, rel=0.01)


def test_yolov2_tiny_macs() -> None:
    # darknet prints 6.97 BFLOPs for yolov2-tiny-voc at 416x416, i.e. ~3.49 GMAC
    net = load_network("yolov2-tiny")
    assert sum(lay.macs for lay in net.layers) == pytest.approx(3.485e9, rel=0.01)


def test_vgg16_bits_all_w1a2() -> None:
    net = load_network("vgg16")
    for lay in net.layers:
        if lay.type in ("conv", "fc"):
            assert (lay.weight_bits, lay.out_bits) == (1, 2), lay.name
    assert net.layer("conv1_1").in_bits == 8
    assert net.layer("conv1_2").in_bits == 2


def test_vgg16_s2_is_core_convs_only() -> None:
    net = load_network("vgg16-s2")
    assert all(_core_shaped(lay) for lay in net.layers)
    assert [lay.name for lay in net.layers if lay.stride == 2] == [f"down{i}" for i in range(1, 6)]
    vgg = load_network("vgg16")
    for i in range(1, 6):  # each stride-2 conv keeps the channels of the pool it replaces
        assert net.layer(f"down{i}").out_shape == vgg.layer(f"pool{i}").out_shape


def test_dorefa_svhn_bits() -> None:
    net = load_network("dorefa-svhn")
    conv0, conv6, fc1 = net.layer("conv0"), net.layer("conv6"), net.layer("fc1")
    assert (conv0.kernel, conv0.weight_bits, conv0.out_bits) == (5, 8, 2)
    assert (conv6.kernel, conv6.weight_bits, conv6.out_bits) == (5, 1, 8)
    assert (fc1.weight_bits, fc1.out_bits, fc1.in_bits) == (8, 8, 8)
    for n in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        lay = net.layer(n)
        assert _core_shaped(lay) and (lay.weight_bits, lay.in_bits, lay.out_bits) == (1, 2, 2)


def test_dorefa_alexnet_structure() -> None:
    net = load_network("dorefa-alexnet")
    conv0 = net.layer("conv0")
    assert (conv0.kernel, conv0.stride, conv0.padding, conv0.weight_bits) == (12, 4, 0, 8)
    assert [net.layer(n).groups for n in ("conv1", "conv2", "conv3", "conv4")] == [2, 1, 2, 2]
    assert net.layer("fc0").in_shape == (6, 6, 256)
    assert (net.layer("fct").weight_bits, net.layer("fct").out_bits) == (8, 8)
    assert [lay.name for lay in net.layers if _core_shaped(lay)] == ["conv2"]


def test_finn_cnv_bits() -> None:
    net = load_network("finn-cnv")
    assert all(lay.weight_bits == 1 for lay in net.layers if lay.type in ("conv", "fc"))
    assert net.layer("conv0").in_bits == 8
    assert net.layer("conv1").in_bits == 2
    assert net.layer("fc8").out_bits == 16  # PassThroughActivation<ap_uint<16>>
    assert net.layer("fc6").in_shape == (1, 1, 256)
    assert sum(_core_shaped(lay) for lay in net.layers) == 6


def test_resnet18_blocks() -> None:
    net = load_network("resnet18")
    stem = net.layer("conv1")
    assert (stem.kernel, stem.stride, stem.padding, stem.weight_bits) == (7, 2, 3, 8)
    assert (net.layer("fc").weight_bits, net.layer("fc").out_bits) == (8, 8)
    adds = [lay for lay in net.layers if lay.type == "add"]
    assert len(adds) == 8
    for stage, c in zip((2, 3, 4), (128, 256, 512), strict=True):
        down = net.layer(f"layer{stage}_0_downsample")
        prev_out = f"layer{stage - 1}_1_add"
        assert (down.kernel, down.stride, down.padding) == (1, 2, 0)
        assert down.inputs == (prev_out,)
        assert net.layer(f"layer{stage}_0_conv1").inputs == (prev_out,)
        assert net.layer(f"layer{stage}_0_conv1").stride == 2
        assert net.layer(f"layer{stage}_0_add").inputs == (
            f"layer{stage}_0_conv2",
            f"layer{stage}_0_downsample",
        )
        assert net.layer(f"layer{stage}_0_add").out_shape[2] == c
    # identity shortcuts
    assert net.layer("layer1_0_add").inputs == ("layer1_0_conv2", "maxpool")
    assert net.layer("layer3_1_add").inputs == ("layer3_1_conv2", "layer3_0_add")
    # the 16 block convs are 3x3 with 1-bit weights, 2-bit in and out
    block = [lay for lay in net.layers if lay.name.endswith(("_conv1", "_conv2"))]
    assert len(block) == 16
    for lay in block:
        assert _core_shaped(lay) and (lay.weight_bits, lay.in_bits, lay.out_bits) == (1, 2, 2)


def test_yolov2_tiny_bits() -> None:
    net = load_network("yolov2-tiny")
    assert net.layer("conv1").in_bits == 8
    head = net.layer("conv9")
    assert (head.kernel, head.padding, head.weight_bits, head.out_bits) == (1, 0, 8, 8)
    inner = [lay for lay in net.layers if lay.type == "conv" and lay.name != "conv9"]
    assert len(inner) == 8
    assert all(_core_shaped(lay) and lay.weight_bits == 1 and lay.out_bits == 2 for lay in inner)
    assert [lay.out_c for lay in inner] == [16, 32, 64, 128, 256, 512, 1024, 1024]


def test_a_failed_layer_does_not_blame_its_readers() -> None:
    """Only the layer with the problem is reported, not every layer reading it."""
    from accelsim.errors import AccelsimError
    from accelsim.network.model import INPUT, Layer, infer_network

    layers = [
        Layer(name="a", type="conv", inputs=(INPUT,), kernel=9, out_channels=4),
        Layer(name="b", type="conv", inputs=("a",), kernel=3, out_channels=4),
        Layer(name="c", type="conv", inputs=("zz",), kernel=3, out_channels=4),
    ]
    with pytest.raises(AccelsimError) as err:
        infer_network("n", (4, 4, 3), 8, layers)
    assert err.value.problems == [
        "layer a: output would be -4x-4 from input 4x4 (kernel 9, stride 1, padding 0)",
        "layer c: input 'zz' is not an earlier layer",
    ]
