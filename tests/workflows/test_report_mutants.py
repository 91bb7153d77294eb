"""What report.html shows that hand-made mutants (mutation sweep eval126) changed without a test
noticing: a headline card's interval bounds in order, the resamples that gave a figure, and the
confusion-matrix figure's rates normalised by the true class (each row sums to 100%); and what
the pooled Dice card counts (a bug found beside them: "voxels" of 2-D images)."""

from __future__ import annotations

from workflows.report import run_plots
from workflows.report.sections import cards, intervals_section


def test_card_gives_the_interval_low_then_high() -> None:
    metrics = {
        "task": "classification",
        "num_classes": 2,
        "summary": {"accuracy": 0.75},
        "intervals": {"accuracy": {"estimate": 0.75, "low": 0.6, "high": 0.9, "level": 0.95}},
    }
    html = cards("classification", metrics)
    # Mutation: the bounds written high-low ("0.900–0.600").
    assert "95% CI 0.600–0.900" in html


def test_confusion_figure_rates_are_of_the_true_class() -> None:
    # rows = truth: [3, 1] -> 3/4 = 75%, 1/4 = 25%; [0, 2] -> 0%, 100%.
    # Mutation: normalised by column (3/3 = 100%, 1/3 = 33%, 0%, 2/3 = 67%).
    fig = run_plots.confusion_figure([[3, 1], [0, 2]], ["benign", "malignant"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["3\n75%", "1\n25%", "0\n0%", "2\n100%"]


def test_intervals_table_says_how_many_resamples_gave_a_figure() -> None:
    ci = {"estimate": 0.8, "low": 0.7, "high": 0.9, "level": 0.95, "method": "bootstrap",
          "n_resamples": 100, "n_valid": 87, "n_groups": 12, "seed": 0}  # fmt: skip
    html = intervals_section({"task": "classification", "intervals": {"roc_auc_macro": ci}})
    # Mutation: the valid count shown as the resamples drawn ("100 (100)").
    assert "<td>100 (87)</td>" in html


def test_pooled_dice_card_names_pixels_of_images_and_voxels_of_volumes() -> None:
    for unit in ("pixels", "voxels"):
        metrics = {"task": "segmentation", "summary": {"dice_dataset_macro": 0.5},
                   "dataset": {"confusion_matrix_unit": unit}}  # fmt: skip
        # It said "pooled voxels" for 2-D images too, whose confusion figure counts pixels.
        assert f"Dice (pooled {unit})" in cards("segmentation", metrics)
