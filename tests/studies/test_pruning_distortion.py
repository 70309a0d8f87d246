"""Notebook 04's output sweep (coinfer.studies.pruning_distortion): the tags of held-out pairs."""

from coinfer.nets import zoo
from coinfer.nets.split import part_configs
from coinfer.studies.pruning_distortion import output_sweep


def test_sweep_tags_every_heldout_pair_with_its_source_and_cluster():
    model = zoo.load_model("digits_mlp")
    batches = {
        "calibration": zoo.model_inputs("digits_mlp", "calibration", 20, 0),
        **zoo.c1_heldout_batches("digits_mlp", n=2, n_images=0, n_digits=6, n_digits_training=4, seed=0),
    }
    samples, summary = output_sweep("digits_mlp", model, part_configs(model, [1]), [0.0, 0.5], batches, progress=False)
    held = samples[samples["subset"] != "calibration"]
    assert held.groupby("subset")["source"].unique().map(list).to_dict() == {
        "heldout": ["test split"],
        zoo.HELDOUT_TRAINING: ["training split"],
    }
    assert held.loc[held["subset"] == zoo.HELDOUT_TRAINING, "cluster"].iloc[0] == f"{zoo.HELDOUT_TRAINING}:0"
    assert (samples.loc[samples["ratio"] == 0, "out_l1"] == 0).all()  # ratio 0 reuses the unpruned outputs
    assert (samples.loc[samples["ratio"] == 0.5, "out_l1"] > 0).any()
    assert set(summary["subset"]) == {"calibration", "heldout", zoo.HELDOUT_TRAINING}
