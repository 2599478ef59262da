import pytest

from unitecon import config
from unitecon.errors import ConfigError


def test_no_file_gives_defaults(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNITECON_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("UNITECON_CONFIG", raising=False)
    assert config.load() == config.Project()


def test_errors_name_file_line_and_field() -> None:
    text = "pricing:\n  nonsense: 1\nunknown_section: {}\n"
    with pytest.raises(ConfigError) as e:
        config.parse(text, "u.yaml")
    msg = str(e.value)
    assert "u.yaml:2: pricing.nonsense" in msg
    assert "u.yaml:3: unknown_section" in msg


def test_bad_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.parse("a: [1, 2\n", "u.yaml")
