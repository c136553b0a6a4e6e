"""Document mode, evidence spans, abstention, the evaluation report and the comparison table."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from diplostance.infer import StanceClassifier
from diplostance.infer.documents import Passage, segment, speaker_turns, summarise
from diplostance.infer.evidence import occlusion_spans
from diplostance.infer.job import ScoreConfig, ScoreJob
from diplostance.infer.report import REPORT_FILES, write_report
from diplostance.model.labels import LABELS
from diplostance.train.baselines import KeywordBaseline
from diplostance.train.data import Example
from diplostance.train.evaluation import compare, render_markdown
from helpers import read_rows, write_rows

TRANSCRIPT = (
    "Good afternoon.\n"
    "MS. JEAN-PIERRE: We will accept the flights once identities are verified. Mr. Smith arrives on Tuesday.\n"
    "Q: Will Beijing agree to take them back?\n"
    "MS. JEAN-PIERRE: No. They have declined to issue travel documents.\n"
)


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model)


def test_speaker_turns_and_offsets():
    turns = speaker_turns(TRANSCRIPT)
    assert [speaker for _, _, speaker in turns] == [None, "MS. JEAN-PIERRE", "Q", "MS. JEAN-PIERRE"]
    passages = segment(TRANSCRIPT)
    texts = [TRANSCRIPT[s:e] for s, e, _ in passages]
    assert texts[1] == "We will accept the flights once identities are verified."
    assert "Mr. Smith arrives on Tuesday." in texts  # "Mr." does not end a sentence
    assert all(TRANSCRIPT[s:e].strip() == TRANSCRIPT[s:e] for s, e, _ in passages)


def test_long_sentence_is_split_to_fit_never_cut():
    sentence = " ".join(f"word{i}" for i in range(500)) + "."
    passages = segment(sentence, fits=lambda chunk: len(chunk.split()) <= 100)
    assert len(passages) == 5
    covered = " ".join(sentence[s:e] for s, e, _ in passages)
    assert covered == sentence


def test_score_document_summary(classifier):
    result = classifier.score_document(TRANSCRIPT)
    assert len(result.passages) == 6
    assert {p.speaker for p in result.passages} == {None, "MS. JEAN-PIERRE", "Q"}
    assert sum(result.summary.counts.values()) == 5  # the reporter's question is not counted
    for passage in result.passages:
        assert TRANSCRIPT[passage.start : passage.end] == passage.text and passage.label in LABELS


def test_document_stance_rule():
    def passage(label, p, speaker="MS. X"):
        probabilities = dict.fromkeys(LABELS, (1 - p) / 3) | {label: p}
        return Passage(0, 1, "x", speaker, label, p, probabilities)

    assert summarise([passage("none", 0.9)]).stance == "none"
    assert summarise([passage("cooperative", 0.9), passage("refusing", 0.6)]).stance == "cooperative"
    assert summarise([passage("cooperative", 0.6), passage("refusing", 0.6)]).stance == "refusing"
    assert summarise([passage("refusing", 0.99, speaker="Q"), passage("conditional", 0.5)]).stance == "conditional"
    summary = summarise([passage("refusing", 0.7), passage("refusing", 0.8)])
    assert summary.strongest["refusing"].confidence == 0.8 and summary.strongest["cooperative"] is None


def test_documents_mode_in_the_job(classifier, tmp_path):
    source = write_rows([{"id": "d1", "text": TRANSCRIPT}, {"id": "d2", "text": ""}], tmp_path / "docs.jsonl")
    out = tmp_path / "passages.csv"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, documents=True, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == 2 and summary.output_rows == len(rows) == 7
    assert [r["id"] for r in rows] == ["d1"] * 6 + ["d2"]
    first = rows[1]
    assert TRANSCRIPT[int(first["start"]) : int(first["end"])] == first["passage"]
    assert rows[-1]["error"] and "text" not in rows[0]


def test_occlusion_finds_the_phrase_that_drives_the_label():
    def logits(texts):  # a stand-in model: "conditional" exactly when the text says "once ... lifted"
        return np.array([[0.0, 3.0 * ("once" in t) + 2.0 * ("lifted" in t), 0.0, 0.0] for t in texts])

    text = "Talks can resume once the sanctions are lifted, the spokesperson said."
    spans = occlusion_spans(text, 1, logits)
    assert spans[0][2] == "resume once the" and spans[0][3] > 0
    assert any("are lifted" in span[2] for span in spans)
    for start, end, phrase, _ in spans:
        assert text[start:end] == phrase


def test_explain_fills_evidence_with_valid_offsets(classifier):
    text = "Talks can resume once the sanctions are lifted, the spokesperson said."
    prediction = classifier.predict(text, explain=True)[0]
    assert isinstance(prediction.evidence, list)
    for span in prediction.evidence:
        assert text[span.start : span.end] == span.text and span.weight > 0
    assert classifier.predict(text)[0].evidence is None


def test_report_files(tmp_path):
    gold = ["cooperative", "refusing", "none", "conditional", "refusing"]
    proba = np.array(
        [[0.7, 0.1, 0.1, 0.1], [0.2, 0.2, 0.5, 0.1], [0.1, 0.1, 0.1, 0.7], [0.6, 0.2, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]]
    )
    metrics = write_report(tmp_path, [f"text {i}" for i in range(5)], gold, proba)
    assert {p.name for p in tmp_path.iterdir()} == set(REPORT_FILES)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["ece"] == pytest.approx(metrics["ece"]) and saved["accuracy"] == pytest.approx(0.8)
    with (tmp_path / "errors.csv").open() as handle:
        errors = list(csv.DictReader(handle))
    assert errors == [{"text": "text 3", "gold": "conditional", "predicted": "cooperative", "confidence": "0.6000"}]
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_comparison_table_slices():
    examples = [
        Example("We reject the proposal.", "refusing", "test", source="real", hard=False),
        Example("Talks resume once the ceasefire holds.", "conditional", "test", source="authored", hard=True),
        Example("We welcome the deal.", "cooperative", "test", source="real"),
    ]
    rows = compare({"keywords": KeywordBaseline().predict}, {"test": examples})
    assert [(r["slice"], r["n"]) for r in rows] == [("all", 3), ("real", 2), ("authored", 1), ("hard", 1)]
    assert rows[0]["macro_f1"] == pytest.approx(1.0)
    assert "| test | all | keywords | 3 | 1.000 |" in render_markdown(rows)


def test_time_stamps_and_stage_lines_are_not_passages():
    text = (
        "MS. JEAN-PIERRE: We will accept the flights.\n"
        "1:14 P.M. EDT\n"
        "(Laughter.)\n"
        "Q: And the talks?\n"
        "MS. JEAN-PIERRE: They resume on Monday.\n"
        "END 1:32 P.M. EDT\n"
    )
    passages = [text[s:e] for s, e, _ in segment(text)]
    assert passages == ["We will accept the flights.", "And the talks?", "They resume on Monday."]


def test_a_none_prediction_has_no_evidence(classifier, monkeypatch):
    calls = []
    monkeypatch.setattr(
        classifier, "predict_proba", lambda texts: np.array([[0.1, 0.1, 0.1, 0.7], [0.1, 0.1, 0.7, 0.1]])
    )
    monkeypatch.setattr(
        "diplostance.infer.classifier.occlusion_spans", lambda text, *_: calls.append(text) or [(0, 2, "We", 1.0)]
    )
    none, refusing = classifier.predict(["The meeting took place on Tuesday.", "We reject the proposal."], explain=True)
    assert none.label == "none" and none.evidence == []
    assert refusing.evidence and calls == ["We reject the proposal."]  # occlusion ran for the stance only


def test_abstention_keeps_the_models_own_label(classifier, tmp_path):
    source = write_rows(
        [{"id": i, "text": t} for i, t in enumerate(["We reject it.", "We accept it."])], tmp_path / "in.jsonl"
    )
    out = tmp_path / "out.jsonl"
    ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False, min_confidence=0.99)).run()
    rows = read_rows(out)
    assert all(r["abstained"] and r["stance"] == "none" and r["top_stance"] in LABELS for r in rows)


def test_score_frame_appends_the_output_columns_row_for_row(classifier):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": [10, 11, 12], "text": ["We reject it.", None, "Seoul said it would help Tokyo."]})
    scored = classifier.score_frame(frame)
    assert list(scored["id"]) == [10, 11, 12] and list(scored.index) == list(frame.index)
    assert scored.loc[1, "error"] == "'text' is null" and pd.isna(scored.loc[1, "stance"])
    assert scored.loc[2, "actor"] == "KOR" and scored.loc[2, "counterpart"] == "JPN"
    assert set(scored.loc[0, ["p_cooperative", "p_none"]].index) and scored.loc[0, "stance"] in LABELS
    with pytest.raises(KeyError, match="no column 'body'"):
        classifier.score_frame(frame, text_column="body")


def test_reliability_plot_uses_fixed_bins_with_counts(tmp_path):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=60)
    gold = [LABELS[i] for i in rng.integers(0, 4, size=60)]
    metrics = write_report(tmp_path, ["t"] * 60, gold, proba)
    assert [b["bin"] for b in metrics["reliability"]] == list(range(10))
    assert sum(b["count"] for b in metrics["reliability"]) == 60
    assert (tmp_path / "reliability.png").stat().st_size > 5_000


def test_documents_summary_file_has_one_row_per_document(classifier, tmp_path):
    source = write_rows(
        [{"id": "brief-1", "text": TRANSCRIPT}, {"id": "empty", "text": " "}, {"id": "brief-2", "text": TRANSCRIPT}],
        tmp_path / "docs.jsonl",
    )
    out, summary = tmp_path / "passages.csv", tmp_path / "documents.jsonl"
    config = ScoreConfig(input=source, output=out, progress=False, documents=True, summary=summary)
    ScoreJob(classifier, config).run()
    documents = read_rows(summary)
    assert [d["id"] for d in documents] == ["brief-1", "empty", "brief-2"]
    assert documents[1]["error"] and documents[0]["error"] is None
    assert documents[0]["passages"] == documents[2]["passages"] == len(read_rows(out)) // 2
    assert documents[0]["document_stance"] in LABELS and "MS. JEAN-PIERRE" in documents[0]["speaker_shares"]
    frame = classifier.score_document(TRANSCRIPT).to_frame()
    assert len(frame) == documents[0]["passages"] and {"start", "passage", "p_none"} <= set(frame.columns)
