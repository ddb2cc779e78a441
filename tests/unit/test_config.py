"""Tests for stdp_mnist.config: the model's defaults (docs/MODEL.md), shipped configs,
validation, --set, TOML output."""

import dataclasses
import tomllib
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from stdp_mnist.config import (
    SECTIONS,
    Config,
    ConfigError,
    apply_overrides,
    config_from_dict,
    config_reference,
    config_to_toml,
    load_config,
    parse_override,
)

CONFIGS = REPO_ROOT / "configs"


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def all_keys():
    return [(name, f.name) for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


# --- defaults ---------------------------------------------------------------


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("network", "n_excitatory", 100),
        ("network", "w_inh_to_exc", 17.0),
        ("network", "w_exc_to_inh", 10.4),
        ("network", "max_delay_ms", 10.0),
        ("network", "weight_sum", 78.0),
        ("network", "w_max", 1.0),
        ("excitatory", "theta_plus_mv", 0.05),
        ("excitatory", "tau_theta_ms", 1e7),
        ("excitatory", "theta_init_mv", 20.0),
        ("excitatory", "theta_offset_mv", 20.0),
        ("excitatory", "tau_ms", 100.0),
        ("excitatory", "v_rest_mv", -65.0),
        ("excitatory", "v_thresh_mv", -52.0),
        ("excitatory", "refractory_ms", 5.0),
        ("excitatory", "e_inh_mv", -100.0),
        ("excitatory", "v_init_offset_mv", -40.0),
        ("inhibitory", "tau_ms", 10.0),
        ("inhibitory", "v_reset_mv", -45.0),
        ("inhibitory", "v_thresh_mv", -40.0),
        ("inhibitory", "refractory_ms", 2.0),
        ("inhibitory", "e_inh_mv", -85.0),
        ("stdp", "nu_pre", 1e-4),
        ("stdp", "nu_post", 0.01),
        ("stdp", "tau_pre_ms", 20.0),
        ("stdp", "tau_post1_ms", 20.0),
        ("stdp", "tau_post2_ms", 40.0),
        ("stdp", "rule", "reference"),
        ("stdp", "timing", "arrival"),
        ("simulation", "dt_ms", 0.5),
        ("simulation", "present_ms", 350.0),
        ("simulation", "rest_ms", 150.0),
        ("simulation", "rest", "simulate"),
        ("simulation", "integrator", "exact"),
        ("input", "intensity", 2.0),
        ("input", "min_spikes", 5),
        ("input", "rate_per_pixel_hz", 0.125),
        ("evaluation", "n_assign", 60000),
        ("evaluation", "n_test", 10000),
        ("evaluation", "boost", True),
        ("training", "shuffle", False),
    ],
)
def test_defaults_are_the_spec_values(section, key, value):
    got = getattr(getattr(Config(), section), key)
    assert got == value and type(got) is type(value)


def test_no_file_means_defaults():
    assert load_config() == Config()
    assert config_from_dict({}) == Config()


def test_input_rate_gives_63_75_hz_at_most():
    cfg = Config()
    assert 255 * cfg.input.rate_per_pixel_hz * cfg.input.intensity == pytest.approx(63.75)


# --- shipped configs ----------------------------------------------------------


def test_configs_exist():
    names = {p.name for p in CONFIGS.glob("*.toml")}
    assert {
        "quick.toml",
        "dc2015-100.toml",
        "dc2015-400.toml",
        "dc2015-1600.toml",
        "dc2015-6400.toml",
    } <= names


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    cfg = load_config(path)
    assert isinstance(cfg, Config)


def test_quick_config():
    cfg = load_config(CONFIGS / "quick.toml")
    assert cfg.network.n_excitatory == 100
    assert 0 < cfg.training.max_examples <= 10000


@pytest.mark.parametrize("n, passes", [(100, 1), (400, 3), (1600, 7), (6400, 15)])
def test_paper_configs(n, passes):
    cfg = load_config(CONFIGS / f"dc2015-{n}.toml")
    assert cfg.network.n_excitatory == n
    assert cfg.training.passes == passes
    assert cfg.training.max_examples == 0  # all passes
    assert cfg.evaluation.n_assign == 60000
    assert cfg.evaluation.n_test == 10000
    # everything else is the reference model
    assert cfg.replace(network={"n_excitatory": 100}, training={"passes": 1}) == Config()


# --- validation -------------------------------------------------------------


def raises_naming(text: str, tmp_path: Path, *names: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    msg = str(info.value)
    for name in names:
        assert name in msg, msg
    assert "\n" not in msg
    return msg


def test_unknown_section(tmp_path):
    raises_naming("[netwrk]\nn_excitatory = 4\n", tmp_path, "netwrk")


def test_unknown_key(tmp_path):
    raises_naming("[network]\nn_exc = 4\n", tmp_path, "network.n_exc")


def test_section_not_a_table(tmp_path):
    raises_naming("network = 4\n", tmp_path, "network")


@pytest.mark.parametrize(
    "text, key",
    [
        ('[excitatory]\ntau_ms = "fast"\n', "excitatory.tau_ms"),  # string for float
        ("[network]\nn_excitatory = 1.5\n", "network.n_excitatory"),  # float for int
        ("[network]\nn_excitatory = 100.0\n", "network.n_excitatory"),  # integral float for int
        ("[network]\nn_excitatory = true\n", "network.n_excitatory"),  # bool for int
        ("[excitatory]\ntau_ms = true\n", "excitatory.tau_ms"),  # bool for float
        ("[training]\nshuffle = 1\n", "training.shuffle"),  # int for bool
        ("[stdp]\nrule = 1\n", "stdp.rule"),  # int for string
        ("[data]\ndir = 3\n", "data.dir"),
        ("[excitatory]\ntau_ms = inf\n", "excitatory.tau_ms"),
        ("[excitatory]\ntau_ms = nan\n", "excitatory.tau_ms"),
        ("[excitatory]\ntau_ms = [1.0]\n", "excitatory.tau_ms"),
    ],
)
def test_wrong_type(tmp_path, text, key):
    raises_naming(text, tmp_path, key)


def test_int_accepted_for_float(tmp_path):
    cfg = load_config(write(tmp_path, "[excitatory]\ntau_ms = 50\n"))
    assert cfg.excitatory.tau_ms == 50.0 and isinstance(cfg.excitatory.tau_ms, float)


@pytest.mark.parametrize(
    "text, key",
    [
        ("[excitatory]\ntau_ms = -1.0\n", "excitatory.tau_ms"),
        ("[excitatory]\ntau_ms = 0.0\n", "excitatory.tau_ms"),
        ("[stdp]\ntau_pre_ms = -20.0\n", "stdp.tau_pre_ms"),
        ("[network]\nn_excitatory = 0\n", "network.n_excitatory"),
        ("[network]\nn_excitatory = -5\n", "network.n_excitatory"),
        ("[stdp]\nnu_pre = 1.5\n", "stdp.nu_pre"),
        ("[stdp]\nnu_post = -0.01\n", "stdp.nu_post"),
        ("[simulation]\ndt_ms = 400.0\n", "simulation.dt_ms"),  # larger than present_ms (350)
        ("[simulation]\ndt_ms = 350.0\n", "simulation.dt_ms"),
        ("[simulation]\npresent_ms = 0.25\n", "simulation.dt_ms"),
        ('[stdp]\nrule = "hebbian"\n', "stdp.rule"),
        ('[stdp]\ntiming = "later"\n', "stdp.timing"),
        ('[simulation]\nrest = "nap"\n', "simulation.rest"),
        ('[simulation]\nintegrator = "rk4"\n', "simulation.integrator"),
        ("[run]\nseed = -1\n", "run.seed"),
        ("[run]\ncheckpoint_every = 0\n", "run.checkpoint_every"),
        ("[training]\npasses = 0\n", "training.passes"),
        ("[evaluation]\nblock_size = 0\n", "evaluation.block_size"),
        ("[excitatory]\nspike_block_ms = 1.0\n", "excitatory.spike_block_ms"),  # < refractory_ms
        ("[network]\nmax_delay_ms = 200.0\n", "network.max_delay_ms"),  # > rest_ms with a simulated rest
    ],
)
def test_out_of_range(tmp_path, text, key):
    raises_naming(text, tmp_path, key)


def test_bad_choice_lists_the_choices(tmp_path):
    msg = raises_naming('[stdp]\nrule = "hebbian"\n', tmp_path, "stdp.rule")
    assert "reference" in msg and "pair" in msg


def test_choices_accepted(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            '[stdp]\nrule = "pair"\ntiming = "emission"\n'
            '[simulation]\nrest = "reset"\nintegrator = "euler"\n',
        )
    )
    assert (cfg.stdp.rule, cfg.stdp.timing, cfg.simulation.rest, cfg.simulation.integrator) == (
        "pair",
        "emission",
        "reset",
        "euler",
    )


def test_long_delay_allowed_with_exact_reset(tmp_path):
    cfg = load_config(
        write(tmp_path, '[network]\nmax_delay_ms = 100.0\n[simulation]\nrest = "reset"\nrest_ms = 50.0\n')
    )
    assert cfg.network.max_delay_ms == 100.0
    with pytest.raises(ConfigError, match="network.max_delay_ms"):
        load_config(write(tmp_path, '[network]\nmax_delay_ms = 200.0\n[simulation]\nrest = "reset"\n'))


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "[network\nn_excitatory = 4\n", "broken.toml")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "broken.toml" in str(info.value) and "\n" not in str(info.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="nothere.toml"):
        load_config(tmp_path / "nothere.toml")


def test_error_from_file_names_file_and_key(tmp_path):
    msg = raises_naming("[network]\nn_excitatory = 0\n", tmp_path, "c.toml", "network.n_excitatory")
    assert "0" in msg


def test_replace_validates():
    with pytest.raises(ConfigError, match="network.n_excitatory"):
        Config().replace(network={"n_excitatory": 0})
    assert Config().replace(network={"n_excitatory": 7}).network.n_excitatory == 7


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().network.n_excitatory = 3  # type: ignore[misc]


# --- --set overrides ----------------------------------------------------------


def test_parse_override_typed_value():
    assert parse_override("network.n_excitatory=400") == ("network", "n_excitatory", 400)
    assert parse_override(" network.n_excitatory = 400 ") == ("network", "n_excitatory", 400)
    assert parse_override("stdp.nu_pre=1e-3") == ("stdp", "nu_pre", 1e-3)
    assert parse_override("training.shuffle=true") == ("training", "shuffle", True)


@pytest.mark.parametrize(
    "text, value",
    [
        ("stdp.rule=pair", "pair"),  # bare word read as a string
        ('stdp.rule="pair"', "pair"),  # quoted TOML string
        ("data.dir=/tmp/mnist data", "/tmp/mnist data"),
        ("data.dir=C:\\mnist", "C:\\mnist"),
        ("data.dir=a=b", "a=b"),  # only the first '=' splits
    ],
)
def test_parse_override_strings(text, value):
    assert parse_override(text)[2] == value


def test_override_applies():
    cfg = load_config(None, ["network.n_excitatory=400", "stdp.rule=pair", "data.dir=/x/y"])
    assert cfg.network.n_excitatory == 400 and cfg.stdp.rule == "pair" and cfg.data.dir == "/x/y"


def test_override_beats_file(tmp_path):
    path = write(tmp_path, "[network]\nn_excitatory = 4\n[training]\npasses = 2\n")
    cfg = load_config(path, ["network.n_excitatory=9"])
    assert cfg.network.n_excitatory == 9 and cfg.training.passes == 2


def test_apply_overrides_does_not_mutate():
    data = {"network": {"n_excitatory": 4}}
    out = apply_overrides(data, ["network.n_excitatory=5"])
    assert data == {"network": {"n_excitatory": 4}} and out["network"]["n_excitatory"] == 5


@pytest.mark.parametrize(
    "text",
    ["a=b", "network=4", "network.n_excitatory", "nodot", "=4", ".n_excitatory=4", "network.=4", "a.b.c=1"],
)
def test_malformed_override(text):
    with pytest.raises(ConfigError) as info:
        load_config(None, [text])
    assert "section.key=value" in str(info.value)


def test_override_unknown_key_and_section():
    with pytest.raises(ConfigError, match="network.n_exc"):
        load_config(None, ["network.n_exc=4"])
    with pytest.raises(ConfigError, match="netwrk"):
        load_config(None, ["netwrk.n_excitatory=4"])


@pytest.mark.parametrize(
    "text, key",
    [
        ("network.n_excitatory=abc", "network.n_excitatory"),
        ("network.n_excitatory=1.5", "network.n_excitatory"),
        ("stdp.nu_pre=1.5", "stdp.nu_pre"),
        ("stdp.rule=hebbian", "stdp.rule"),
    ],
)
def test_override_value_validated(text, key):
    with pytest.raises(ConfigError, match=key):
        load_config(None, [text])


def test_a_bad_override_value_is_an_error_of_the_set_not_of_the_file(tmp_path):
    path = write(tmp_path, "[training]\nmax_examples = 10\n", "mine.toml")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["run.seed=2", "training.max_examples=abc"])
    message = str(info.value)
    assert message.startswith("--set training.max_examples=abc: training.max_examples: expected an integer")
    assert "mine.toml" not in message and "run.seed" not in message
    with pytest.raises(ConfigError, match=r"^--set 'training.max_exampels=3': unknown key"):
        load_config("quick", ["training.max_exampels=3"])  # no file named before it either
    with pytest.raises(ConfigError, match=r"^\S*bad.toml: training.max_examples"):
        load_config(write(tmp_path, '[training]\nmax_examples = "x"\n', "bad.toml"), ["run.seed=2"])


def test_a_mistyped_shipped_name_gets_the_nearest_one():
    with pytest.raises(
        ConfigError, match=r"quik: config file not found, nor a shipped one \(did you mean quick\?\)"
    ):
        load_config("quik")
    with pytest.raises(ConfigError) as info:
        load_config("zzzzzz")
    assert "did you mean" not in str(info.value)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[training]\nmax_examples = 5\n")  # as Notepad saves UTF-8
    assert load_config(path).training.max_examples == 5


# --- config_to_toml / config_reference -----------------------------------------


def test_config_to_toml_round_trip_defaults(tmp_path):
    text = config_to_toml(Config())
    assert load_config(write(tmp_path, text)) == Config()
    # every key is written
    data = tomllib.loads(text)
    assert {(s, k) for s, values in data.items() for k in values} == set(all_keys())


def test_config_to_toml_round_trip_changed(tmp_path):
    cfg = Config().replace(
        run={"seed": 12345, "checkpoint_every": 7},
        data={"dir": 'C:\\data\\"mnist" é\ttab'},
        network={"n_excitatory": 3, "max_delay_ms": 0.0, "w_exc_to_inh": 0.1 + 0.2},
        excitatory={"tau_theta_ms": 1e7, "theta_plus_mv": 1e-300, "spike_block_ms": 50.0},
        stdp={"rule": "pair", "timing": "emission", "nu_pre": 1e-4},
        simulation={"rest": "reset", "integrator": "euler", "dt_ms": 0.25},
        training={"shuffle": True, "max_examples": 10, "passes": 3},
        evaluation={"boost": False, "block_size": 3},
    )
    loaded = load_config(write(tmp_path, config_to_toml(cfg)))
    assert loaded == cfg
    assert loaded.network.w_exc_to_inh == 0.1 + 0.2  # floats bit-exact


def test_config_reference_mentions_every_key():
    ref = config_reference()
    for section, key in all_keys():
        assert f"`{section}.{key}`" in ref
    assert len(ref.splitlines()) == len(all_keys()) + 2


def test_model_hash_depends_on_shape_only():
    base = Config()
    assert base.model_hash() == base.replace(stdp={"rule": "pair"}, run={"seed": 5}).model_hash()
    assert base.model_hash() != base.replace(network={"n_excitatory": 101}).model_hash()


def test_validation_split_takes_any_schedule():
    # its passes go over the images before the validation split (data.training_set), so
    # the test protocol's three shuffled passes are a validation protocol too
    held_out = {"split": "validation"}
    cfg = Config().replace(training={"passes": 3, "shuffle": True}, evaluation=held_out)
    assert cfg.evaluation.split == "validation"
    load_config("dc2015-400", ["evaluation.split=validation", "evaluation.n_assign=50000"])


# --- base: a config that starts from another ----------------------------------


def test_base_supplies_the_keys_the_file_does_not_set(tmp_path):
    write(tmp_path, "[network]\nn_excitatory = 40\n\n[training]\npasses = 2\n", "parent.toml")
    child = write(tmp_path, 'base = "parent.toml"\n\n[training]\npasses = 5\n', "child.toml")
    cfg = load_config(child)
    assert (cfg.network.n_excitatory, cfg.training.passes) == (40, 5)


def test_base_by_shipped_name_from_another_folder(tmp_path):
    child = write(tmp_path, 'base = "dc2015-400"\n\n[excitatory]\ntheta_target_spikes = 8.0\n')
    cfg = load_config(child)
    assert cfg.replace(excitatory={"theta_target_spikes": 0.0}) == load_config(CONFIGS / "dc2015-400.toml")


def test_a_base_may_have_a_base_and_set_overrides_beat_them_all(tmp_path):
    write(tmp_path, "[network]\nn_excitatory = 40\n\n[training]\npasses = 2\n", "a.toml")
    write(tmp_path, 'base = "a.toml"\n\n[training]\npasses = 3\n', "b.toml")
    c = write(tmp_path, 'base = "b.toml"\n\n[run]\nseed = 7\n', "c.toml")
    cfg = load_config(c, ["network.n_excitatory=30"])
    assert (cfg.network.n_excitatory, cfg.training.passes, cfg.run.seed) == (30, 3, 7)


def test_a_base_is_relative_to_the_file_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "[network]\nn_excitatory = 40\n", "parent.toml")
    write(tmp_path / "sub", 'base = "parent.toml"\n', "child.toml")
    monkeypatch.chdir(tmp_path)
    assert load_config("sub/child.toml").network.n_excitatory == 40


@pytest.mark.parametrize(
    "text, words",
    [
        ("base = 3\n", ["c.toml", "base", "expected the name"]),
        ('base = "nowhere"\n', ["c.toml", "base", "nowhere", "not found"]),
        ('base = "c.toml"\n', ["c.toml", "leads back to itself"]),
    ],
)
def test_a_bad_base_is_a_one_line_error_naming_the_file(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert all(word in str(info.value) for word in words) and "\n" not in str(info.value)


def test_a_cycle_through_two_files_is_named(tmp_path):
    write(tmp_path, 'base = "b.toml"\n', "a.toml")
    write(tmp_path, 'base = "a.toml"\n', "b.toml")
    with pytest.raises(ConfigError, match=r"a.toml -> b.toml -> a.toml"):
        load_config(tmp_path / "a.toml")


def test_an_error_in_the_base_names_the_base(tmp_path):
    write(tmp_path, "[network]\nn_excitatory = 0\n", "parent.toml")
    child = write(tmp_path, 'base = "parent.toml"\n\n[network]\nn_excitatory = 40\n', "child.toml")
    with pytest.raises(
        ConfigError, match=r"parent.toml \(the base of .*child.toml\): .*network.n_excitatory"
    ):
        load_config(child)


def differences(cfg: Config, other: Config) -> set[str]:
    """The ``section.key`` names whose values differ between two configs."""
    a, b = cfg.to_dict(), other.to_dict()
    return {
        f"{name}.{key}"
        for name, values in a.items()
        for key, value in values.items()
        if b[name][key] != value
    }


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_a_shipped_config_with_a_base_holds_exactly_its_differences(path):
    """What a variant changes is read off its file: every key it sets changes its base."""
    data = tomllib.loads(path.read_text())
    if "base" not in data:
        return
    own = {f"{name}.{key}" for name, values in data.items() if isinstance(values, dict) for key in values}
    assert differences(load_config(path), load_config(data["base"])) == own


def test_the_brian1_configs_change_the_numerics_alone():
    """docs/FIDELITY.md sets each -brian1 row beside its default as the reference's
    numerics and nothing else."""
    numerics = {"simulation.integrator", "excitatory.refractory_ms"}
    assert differences(load_config("dc2015-400-brian1"), load_config("dc2015-400")) == numerics | {
        "stdp.timing"
    }
    assert differences(load_config("dc2015-1600-brian1"), load_config("dc2015-1600")) == numerics
    assert differences(load_config("dc2015-1600-brian1-unclamped"), load_config("dc2015-1600")) == {
        "excitatory.refractory_ms"
    }
    # the three parts of dc2015-400-brian1, one at a time
    for part, key in [
        ("euler", "simulation.integrator"),
        ("unclamped", "excitatory.refractory_ms"),
        ("lookup", "stdp.timing"),
    ]:
        one = load_config(f"dc2015-400-brian1-{part}")
        assert differences(one, load_config("dc2015-400")) == {key}
        assert differences(one, load_config("dc2015-400-brian1")) == (numerics | {"stdp.timing"}) - {key}
