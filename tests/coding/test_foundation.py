"""The foundation: config loads, findings serialize, money formats for X12."""

from decimal import Decimal

from typer.testing import CliRunner

from coding.config import load_config
from coding.findings import Finding
from dripline.cli import app


def test_default_config_has_both_payer_profiles():
    cfg = load_config()
    assert cfg.payers["medicare"].filing_indicator == "MB"
    assert cfg.payers["commercial"].filing_indicator == "CI"
    assert cfg.payers["medicare"].separate_site_modifier == "59"
    assert cfg.price("96365") == Decimal("350.00")


def test_finding_to_dict_drops_empty_positions():
    f = Finding("error", "missing-stop-time", "no stop time", encounter_id="E1", administration_id="A2")
    assert f.to_dict() == {
        "severity": "error",
        "code": "missing-stop-time",
        "message": "no stop time",
        "encounter_id": "E1",
        "administration_id": "A2",
    }


def test_cli_has_help():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Infusion billing" in result.output


def test_partial_config_is_merged_over_the_bundled_default(tmp_path):
    from coding.config import load_config as load

    p = tmp_path / "c.toml"
    p.write_text(
        '[facility]\nprogram_340b = "TB"\n\n[payers.medicare]\nfiling_indicator = "MB"\n'
        'separate_site_modifier = "XU"\n\n[payers.bcbs]\ncomplex_biologic_as_chemo = true\n\n'
        '[chargemaster]\n"96365" = 400\n'
    )
    cfg = load(p)
    assert cfg.facility.program_340b == "TB"
    assert set(cfg.payers) == {"medicare", "bcbs"}
    assert cfg.payers["medicare"].separate_site_modifier == "XU"
    assert cfg.payers["medicare"].home_infusion_model == "medicare_hit"
    assert cfg.payers["bcbs"].filing_indicator == "CI" and cfg.payers["bcbs"].complex_biologic_as_chemo
    assert cfg.price("96365") == Decimal("400")
    assert cfg.price("96366") == Decimal("95.00")  # from the bundled chargemaster
    assert cfg.billing_provider.npi == "1234567893"


def test_bad_config_lists_every_problem(tmp_path):
    import pytest

    from coding.config import ConfigError
    from coding.config import load_config as load

    p = tmp_path / "c.toml"
    p.write_text(
        '[facility]\nprogram_340b = "XX"\n[payers.m]\ncomplex_biologic_as_chemo = "maybe"\n'
        '[chargemaster]\n"96365" = "abc"\n'
    )
    with pytest.raises(ConfigError) as exc:
        load(p)
    assert len(exc.value.messages) == 3


def test_code_stream_gives_what_code_encounters_gives_one_chunk_at_a_time(fixtures_dir):
    from coding.encounters.loader import load_encounters
    from coding.engine import code_encounters, code_stream

    cfg = load_config()
    encs, _ = load_encounters([fixtures_dir / "encounters.json"], cfg)
    want = [ce.to_dict() for ce in code_encounters(encs, cfg)]
    pulled: list[int] = []

    def source():
        for n, e in enumerate(encs):
            pulled.append(n)
            yield e

    stream = code_stream(source(), cfg, chunk=2)
    first = next(stream)
    assert len(pulled) == 2  # only the first chunk was taken from the input
    assert [first.to_dict(), *(ce.to_dict() for ce in stream)] == want
