"""Train the Chinese offensive-language model shipped as ``coach/text/data/offensive_zh.npz``.

    python scripts/train_offensive_zh.py                      # COLD from ../shared/data/cold
    python scripts/train_offensive_zh.py --data DIR --out model.npz --max-features 30000

Data: COLD (Chinese Offensive Language Dataset, Deng et al. 2022, Apache-2.0), read in place from
``train.csv`` and ``dev.csv`` (columns ``TEXT`` and ``label``, 1 = offensive); nothing of it is copied
into the repository. Texts go through ``coach.text.normalize.normalize(text, "zh")`` as utterances do
at run time, then a character 1-3-gram TF-IDF (sublinear tf, the ``--max-features`` most frequent
n-grams) and logistic regression. ``C`` is chosen on the dev split; the test split is left to
``bench/offensive.py``.

The result is written with :meth:`coach.text.offensive.LinearTextModel.save`: arrays only (vocabulary,
idf, coefficients, intercept), no pickle. Before saving, the numpy scorer is checked against
scikit-learn's ``predict_proba`` on every dev text; a difference above 1e-9 stops the script.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coach.text.normalize import normalize
from coach.text.offensive import ZH_MODEL_PATH, LinearTextModel

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cold"
NGRAM_RANGE = (1, 3)


def read_split(data: Path, split: str) -> tuple[list[str], np.ndarray]:
    """Normalised texts and 0/1 labels of one COLD split (``train``, ``dev`` or ``test``)."""
    with open(data / f"{split}.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return [normalize(row["TEXT"], "zh") for row in rows], np.array([int(row["label"]) for row in rows])


def vectorizer(max_features: int):  # scikit-learn is imported late: only this script needs it
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=NGRAM_RANGE, max_features=max_features, sublinear_tf=True,
                           dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with COLD's train.csv and dev.csv")
    parser.add_argument("--out", type=Path, default=ZH_MODEL_PATH)
    parser.add_argument("--max-features", type=int, default=30_000)
    parser.add_argument("--C", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0], help="candidates, chosen on dev")
    args = parser.parse_args()

    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    started = time.perf_counter()
    train_texts, train_labels = read_split(args.data, "train")
    dev_texts, dev_labels = read_split(args.data, "dev")
    print(f"COLD train {len(train_texts)} ({train_labels.mean():.1%} offensive), dev {len(dev_texts)}")

    vec = vectorizer(args.max_features)
    x_train = vec.fit_transform(train_texts)
    x_dev = vec.transform(dev_texts)
    best: tuple[float, float, LogisticRegression] | None = None
    for c in args.C:
        clf = LogisticRegression(C=c, max_iter=5000).fit(x_train, train_labels)
        predicted = clf.predict(x_dev)
        accuracy, f1 = accuracy_score(dev_labels, predicted), f1_score(dev_labels, predicted)
        print(f"  C={c:<5g} dev accuracy {accuracy:.4f}  F1 {f1:.4f}")
        if best is None or accuracy > best[0]:
            best = (accuracy, f1, clf)
    assert best is not None
    accuracy, f1, clf = best

    model = LinearTextModel(
        vec.get_feature_names_out(), vec.idf_, clf.coef_, clf.intercept_,
        analyzer="char", ngram_range=NGRAM_RANGE, sublinear_tf=True,
    )
    reference = clf.predict_proba(x_dev)[:, 1]
    ours = np.array([model.predict(text)[0] for text in dev_texts])
    gap = float(np.abs(reference - ours).max())
    print(f"chosen C={clf.C:g}; numpy scorer vs scikit-learn on {len(dev_texts)} dev texts: max |diff| {gap:.2e}")
    if gap > 1e-9:
        sys.exit("the numpy scorer does not reproduce scikit-learn; not saved")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(
        args.out, data="COLD (Deng et al. 2022, Apache-2.0), train split", train_rows=len(train_texts),
        features=f"char {NGRAM_RANGE[0]}-{NGRAM_RANGE[1]}-grams of normalize(text, 'zh'), tf-idf, sublinear tf, "
                 f"{len(model.terms)} features",
        classifier=f"LogisticRegression(C={clf.C:g})", dev_accuracy=round(accuracy, 4), dev_f1=round(f1, 4),
        sklearn_version=sklearn.__version__, parity_max_abs_diff=gap,
    )
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.2f} MB) in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
