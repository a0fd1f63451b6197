"""What serves the model: Vertex AI's prebuilt scikit-learn prediction container.

The prebuilt containers "handle prediction requests by performing the prediction operation of the
machine learning framework" (cloud.google.com/vertex-ai/docs/predictions/custom-prediction-routines):
for scikit-learn that is `predict()`, never `predict_proba()`. So the served model is a regressor of
the purchase probability (squared error on the 0/1 label estimates P(purchase | features)), and the
artifact must be `model.joblib` or `model.pkl` written by the same scikit-learn minor version as the
container (cloud.google.com/vertex-ai/docs/training/exporting-model-artifacts).

Images exist in the us, europe and asia Artifact Registry multi-regions only
(`^(us|europe|asia)-docker.pkg.dev/vertex-ai/prediction/...`, google-cloud-aiplatform
`constants/prediction.py`); the image is code, not data: the model artifact and every prediction stay
in the cell's region.
"""

from __future__ import annotations

#: scikit-learn of the container `sklearn-cpu.1-6` (the notebooks install exactly this to train): the
#: newest scikit-learn container ("Prebuilt containers for inference", scikit-learn table), available
#: until Oct 14, 2027. `sklearn-cpu.1-5` is past its end of patch (July 14, 2026) and is no longer
#: available from Jan 14, 2027. 1.6.1 is the last release of 1.6; a pickle loads within its minor version.
SKLEARN_VERSION = "1.6.1"
SKLEARN_CONTAINER = "sklearn-cpu.1-6"
#: The artifact file name the prebuilt container loads.
ARTIFACT_FILE = "model.joblib"


def serving_image(region: str) -> str:
    """The prebuilt container image from the multi-region nearest to `region`."""
    if region.startswith("europe-"):
        prefix = "europe"
    elif region.startswith(("asia-", "australia-")):
        prefix = "asia"
    else:
        prefix = "us"
    return f"{prefix}-docker.pkg.dev/vertex-ai/prediction/{SKLEARN_CONTAINER}:latest"
