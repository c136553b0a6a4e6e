"""Who takes the stance toward whom on what (issue 13), and the stance over time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from diplostance.infer.actors import first_named, resolve_parties
from diplostance.infer.cli import app
from diplostance.infer.records import InputError
from diplostance.infer.trends import trends, wilson_interval
from diplostance.model.issues import IssueClassifier
from typer.testing import CliRunner


@pytest.mark.parametrize(
    ("text", "speaker", "actor", "counterpart"),
    [
        ("The Kremlin said on Monday it would not extend the grain deal with Ukraine.", None, "RUS", "UKR"),
        ("Seoul said it would send a relief team to Tokyo within the week.", None, "KOR", "JPN"),
        ("Beijing has declined to issue travel documents under US deportation orders.", None, "CHN", "USA"),
        ("South Sudan rejected the proposal tabled by Sudan.", None, "SSD", "SDN"),  # longest name first
        ("Downing Street confirmed that talks with Brussels would resume.", None, "GBR", "EU"),
        ("We will not accept the proposal of the United States.", "Kenya (KEN) delegation", "KEN", "USA"),
        ("We are ready to work with our partners in Canada.", "Ms. Psaki — Press Briefing", "USA", "CAN"),
        ("Let us be clear about who pays: we will support the WHO appeal.", "Ms. Psaki", "USA", "WHO"),
        ("Q: Manila says it asked for an inquiry. Will China take part? A: The facts are clear.", "CHN", "CHN", "PHL"),
    ],
)
def test_actor_and_counterpart(text, speaker, actor, counterpart):
    parties = resolve_parties(text, speaker)
    assert (parties.actor, parties.counterpart) == (actor, counterpart)


def test_office_holders_are_known_by_name_and_pronouns_are_not_countries():
    assert resolve_parties("Kishida said the visit would go ahead.", year=2023).actor == "JPN"
    assert resolve_parties("Tell us who is paying for it.").actor is None  # "us", "who": no USA, no WHO
    assert first_named("The talks in Paris were welcomed by India.") == "FRA"  # the baseline: first name in the text


def test_issue_classifier_round_trips_through_plain_files(tmp_path):
    texts = [
        "We will extradite the suspect to face trial.",
        "The extradition request was refused.",
        "New tariffs on steel imports take effect.",
        "We agreed to cut tariffs on grain.",
    ] * 3
    issues = ["extradition", "extradition", "trade_tariffs", "trade_tariffs"] * 3
    model = IssueClassifier.fit(texts, issues)
    model.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl")) and {p.name for p in tmp_path.iterdir()} == {"issues.npz", "issues.json"}
    loaded = IssueClassifier.load(tmp_path)
    assert loaded.predict(["An extradition treaty", "tariffs on cars"]) == ["extradition", "trade_tariffs"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    with pytest.raises(ValueError, match="unknown issue"):
        IssueClassifier.fit(texts, ["trade"] * len(texts))


def test_wilson_interval_is_honest_for_small_counts():
    low, high = wilson_interval(0, 3)
    assert low == 0.0 and 0.4 < high < 0.8
    low, high = wilson_interval(50, 100)
    assert low < 0.5 < high and high - low < 0.2


def _scored_frame() -> pd.DataFrame:
    rows = []
    for day in range(60):
        date = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
        stance = "refusing" if date.month == 1 else "cooperative"
        rows.append({"text": f"Statement {day}", "stance": stance, "actor": "CHN", "counterpart": "USA",
                     "issue": "visas", "date": date.isoformat(), "p_refusing": 0.8})  # fmt: skip
    rows.append(dict(rows[0]))  # a wire repeat: same group, day and words
    rows.append(rows[1] | {"stance": None, "error": "line 3: 'text' is empty"})
    rows.append({"text": "A lone one", "stance": "none", "actor": "RUS", "counterpart": None, "issue": None,
                 "date": "2024-01-05"})  # fmt: skip
    return pd.DataFrame(rows)


def test_trends_counts_shares_repeats_and_sparse_groups():
    table = trends(_scored_frame(), by=["actor", "counterpart", "issue"], freq="month", min_count=5)
    china = table[table["actor"] == "CHN"].set_index("period")
    assert list(china["n"]) == [31, 29]  # the repeat counted once, the error row left out
    assert china["share_refusing"].iloc[0] == 1.0 and china["share_cooperative"].iloc[1] == 1.0
    assert china["share_refusing_low"].iloc[0] > 0.85 and not china["sparse"].any()
    russia = table[table["actor"] == "RUS"]
    assert russia["sparse"].all() and russia["counterpart"].iloc[0] == "—"
    assert table.attrs["left_out"] == 1
    with pytest.raises(ValueError, match="no column"):
        trends(_scored_frame().drop(columns="date"))


def test_trends_command_writes_table_and_plot(tmp_path):
    scored = tmp_path / "scored.jsonl"
    scored.write_text("".join(json.dumps(r) + "\n" for r in _scored_frame().to_dict("records")))
    result = CliRunner().invoke(
        app, ["trends", str(scored), "--by", "actor,issue", "--out", str(tmp_path / "t.csv"), "--plot",
              str(tmp_path / "t.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "t.csv")
    assert set(table["actor"]) == {"CHN", "RUS"} and "share_refusing_high" in table.columns
    assert (tmp_path / "t.png").stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["trends", str(scored), "--freq", "fortnight"])
    assert bad.exit_code == 2 and "freq must be one of" in bad.output


def test_scored_rows_carry_actor_counterpart_and_issue(tiny_model, tmp_path):
    from diplostance.infer import StanceClassifier
    from diplostance.infer.job import ScoreConfig, ScoreJob
    from helpers import read_rows

    source = tmp_path / "in.csv"
    source.write_text(
        "id,text,speaker_or_source\n"
        '1,"We will not accept the proposal of the United States.","Kenya (KEN) delegation"\n'
        '2,"Seoul said it would send a relief team to Tokyo.",""\n'
    )
    out = tmp_path / "out.jsonl"
    classifier = StanceClassifier.from_pretrained(tiny_model, backend="onnx")
    config = ScoreConfig(input=source, output=out, progress=False, speaker_column="speaker_or_source")
    ScoreJob(classifier, config).run()
    rows = read_rows(out)
    assert [(r["actor"], r["counterpart"]) for r in rows] == [("KEN", "USA"), ("KOR", "JPN")]
    assert all("issue" in r for r in rows)
    predictions = classifier.predict([r["text"] for r in rows], speakers=["Kenya (KEN) delegation", None])
    assert [p.actor for p in predictions] == ["KEN", "KOR"]
    with pytest.raises(InputError, match="--speaker-column"):
        ScoreJob(classifier, ScoreConfig(input=source, output=tmp_path / "x.jsonl", speaker_column="who")).run()
