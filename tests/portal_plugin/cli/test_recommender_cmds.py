from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portal_plugin.cli.main import app
from recommender.artifact import promote, save_artifact
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.state import ModelState
from tests.support.recommender_world import small_world

runner = CliRunner()


@pytest.fixture
def csvs(tmp_path: Path) -> dict[str, Path]:
    interactions, users, items = small_world()
    paths = {name: tmp_path / f"{name}.csv" for name in ("train", "test", "users", "items")}
    interactions.to_csv(paths["train"], index=False)
    cold = [("newcomer", "age:30-39"), ("newcomer", "household:young_children")]
    users_all = users.to_numpy().tolist() + [list(row) for row in cold]
    paths["users"].write_text(
        "user_id,feature\n" + "".join(f"{u},{f}\n" for u, f in users_all), encoding="utf-8"
    )
    items.to_csv(paths["items"], index=False)
    paths["test"].write_text("user_id,item_id\nu00,i09\nu01,i19\nnewcomer,i01\n")
    return paths


def test_evaluate_prints_one_json_object(csvs: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"no_components": 8, "epochs": 5}')
    result = runner.invoke(
        app,
        [
            "recommender", "evaluate", "--train", str(csvs["train"]), "--test", str(csvs["test"]),
            "--user-features", str(csvs["users"]), "--item-features", str(csvs["items"]),
            "--k", "5", "--json", "--config", str(config),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["k"] == 5
    assert out["warm"]["n_users"] >= 1 and out["cold"]["n_users"] == 1
    for group in ("warm", "cold"):
        for name in ("model", "popularity", "segment_popularity"):
            assert set(out[group][name]) >= {"precision", "recall", "auc"}
    assert out["settings"]["no_components"] == 8 and out["settings"]["random_state"] == 0
    assert out["training_seconds"] >= 0


def test_evaluate_table_output(csvs: dict[str, Path]) -> None:
    result = runner.invoke(
        app, ["recommender", "evaluate", "--train", str(csvs["train"]), "--test", str(csvs["test"])]
    )
    assert result.exit_code == 0, result.output
    assert "segment_popularity" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("user_id,item_id,weight\nu1,i1,1\nu2,i2,lots\n", "'weight' at row 3 is 'lots'"),
        ("user,item_id\nu1,i1\n", "missing column 'user_id'"),
        ("user_id,item_id\nu1,\n", "empty 'item_id' at row 2"),
    ],
)
def test_bad_train_csv_exits_2_naming_file_row_column(
    csvs: dict[str, Path], tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = runner.invoke(
        app, ["recommender", "evaluate", "--train", str(bad), "--test", str(csvs["test"])]
    )
    assert result.exit_code == 2
    assert "bad.csv" in result.output and message in result.output


def test_bad_config_and_unknown_option_exit_2(csvs: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"componentz": 8}')
    args = ["recommender", "evaluate", "--train", str(csvs["train"]), "--test", str(csvs["test"])]
    result = runner.invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 2 and "componentz" in result.output
    assert runner.invoke(app, [*args, "--frobnicate"]).exit_code == 2


def test_models_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "list", "--store", str(tmp_path)])
    assert result.exit_code == 0 and "no models" in result.output
    interactions, users, items = small_world()
    model = LightFMRecommender({"no_components": 4, "epochs": 1}).fit(
        Dataset.construct(interactions, users, items)
    )
    info = save_artifact(
        tmp_path,
        ModelState.from_model(model),
        code_version="9.9",
        metrics={"warm": {"model": {"precision": 0.125}}},
    )
    promote(tmp_path, info.version)
    result = runner.invoke(app, ["models", "list"], env={"MODEL_STORE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "0.1250" in result.output and "*" in result.output
    # Chosen settings are shown with the validation score they were chosen by.
    chosen = save_artifact(
        tmp_path,
        ModelState.from_model(model),
        code_version="9.9",
        config={"epochs": 14},
        selection={
            "epochs": 14,
            "changes": {"epochs": 14, "item_identity": False},
            "validation": {"precision@10": 0.0421},
        },
    )
    result = runner.invoke(app, ["models", "list", "--store", str(tmp_path)])
    assert chosen.version in result.output
    assert "14 epochs, item_identity=False" in result.output and "0.0421" in result.output
    assert "fixed: ? epochs" in result.output  # the first version recorded no selection


def test_evaluate_chooses_settings_on_a_validation_split(tmp_path: Path) -> None:
    out = tmp_path / "ratings"
    made = runner.invoke(
        app, ["recommender", "sample-data", "--out", str(out), "--users", "150", "--seed", "2"]
    )
    assert made.exit_code == 0, made.output
    files = ("train", "test", "user_features", "item_features")
    assert all((out / f"{name}.csv").is_file() for name in files)
    result = runner.invoke(
        app,
        [
            "recommender", "evaluate", "--train", str(out / "train.csv"),
            "--test", str(out / "test.csv"), "--user-features", str(out / "user_features.csv"),
            "--item-features", str(out / "item_features.csv"), "--segment", "age,gender",
            "--json", "--budget-seconds", "20",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    selected = report["selected"]
    assert selected["epochs"] == report["settings"]["epochs"] >= 1
    assert selected["validation"]["method"] == "per_user"
    assert selected["trials"][0]["changes"] == {} and selected["budget_seconds"] == 20
    assert report["settings"]["segment_prefixes"] == ["age", "gender"]
    for group in ("warm", "cold"):
        assert set(report[group]["collaborative"]) >= {"precision", "recall", "auc"}
    assert report["collaborative_epochs"] >= 1


def test_sample_data_refuses_an_unknown_shape(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["recommender", "sample-data", "--out", str(tmp_path), "--shape", "x"]
    )
    assert result.exit_code == 2 and "ratings or city" in result.output
