"""Deterministic SYNTHETIC GitHub issue corpus for botstudy (not real GitHub data).

What this is
------------
A generator of fake issue/PR threads for keras-team/keras, pytorch/pytorch and
tensorflow/tensorflow, shaped exactly like GitHub's REST answers to
``GET /repos/{o}/{r}/issues`` and ``GET /repos/{o}/{r}/issues/comments``, so that the mining,
keyword search, bot detection, validation and automatic coding stages can run offline and be
tested against a known ground truth. Nothing here was downloaded from GitHub: titles, bodies
and human user names are invented; the bot accounts and bot message templates imitate the real
ones of these libraries (tensorflowbutler, google-ml-butler[bot], googlebot,
facebook-github-bot, pytorchbot, stale[bot], mention-bot, codecov, ...). Every ``node_id``
starts with ``SYNTH_`` so that synthetic rows are recognisable wherever they end up.

Contents
--------
* ~10% bot-related threads (``truth.csv`` ``bot_related=true``) covering the study's nine
  categories roughly in the paper's proportions (with a floor for rare categories): bots that
  post (GitHub Apps with ``[bot]`` logins and ``performed_via_github_app``, and machine users of
  type ``User``), humans invoking bots (``@pytorchbot retest this please``), and humans merely
  discussing a bot or service (``the stale bot closed my issue``, ``codecov report looks wrong``).
* ~2.5% hard negatives: chatbot/game/trading bots, robots, ``bot`` only inside code or logs,
  human logins that contain "bot".
* the rest: ordinary bug reports, feature requests, questions and PRs ("both", "bottleneck",
  "bottom" included), plus edge cases: deleted users (``user: null`` and ``ghost``), null
  bodies, emoji/CJK/RTL/zero-width text, one ~200 KB body.

Usage
-----
``python -m botstudy_dev.synthetic [--out data/sample] [--labels data/labels/coding]
[--scale 1.0] [--seed 2021]`` writes ``<out>/<owner>__<name>/issues.json.gz`` and
``comments.json.gz`` (JSON arrays, gzip mtime=0: byte-reproducible), ``<out>/truth.csv`` and the
two synthetic raters' codings ``<labels>/rater1.csv`` and ``rater2.csv``; then it self-checks the
registry and codebook (``--check`` does only that). Scale 1.0 is ~3,000 threads; scale 22.8 is
the study's ~68,400 issues (~400k comments) and generates in well under a minute.

Only the standard library is used (the self-check imports PyYAML lazily).
Note: generated items share user/app dicts between items (to save memory); treat them as
read-only.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = [
    "CATEGORIES",
    "DEFAULT_REPOS",
    "Corpus",
    "generate_corpus",
    "main",
    "self_check",
    "write_rater_files",
    "write_sample",
]

DEFAULT_REPOS = ("keras-team/keras", "pytorch/pytorch", "tensorflow/tensorflow")
CATEGORIES = (
    "code_coverage",
    "commit_mapping",
    "continuous_integration",
    "feedback",
    "issue_management",
    "license",
    "mention",
    "onboarding",
    "stale",
)
# Table I of the paper: share of the 135 bot-related issues per category.
PAPER_SHARES = {
    "issue_management": 0.394,
    "stale": 0.281,
    "onboarding": 0.141,
    "feedback": 0.133,
    "continuous_integration": 0.022,
    "code_coverage": 0.007,
    "commit_mapping": 0.007,
    "license": 0.007,
    "mention": 0.007,
}
RARE_FLOOR = {
    "continuous_integration": 9,
    "code_coverage": 6,
    "commit_mapping": 6,
    "license": 6,
    "mention": 6,
}  # at scale >= 1, at least this many threads (primary category)
BASE_THREADS = {"keras-team/keras": 700, "pytorch/pytorch": 1100, "tensorflow/tensorflow": 1200}
BOT_SHARE = {"Keras": 0.07, "PyTorch": 0.05, "TensorFlow": 0.155}
NEGATIVE_SHARE = 0.025
PR_SHARE = 0.25
PROJECT_ROOT = Path(__file__).resolve().parent.parent

_EPOCH = datetime(1970, 1, 1)


def _ts(y: int, m: int = 1, d: int = 1) -> int:
    return int((datetime(y, m, d) - _EPOCH).total_seconds())


DAY = 86400
END_TS = _ts(2021, 11, 14) + DAY - 1  # 2021-11-14T23:59:59Z: nothing later
LAST_CREATED_TS = _ts(2021, 11, 10)
REPO_START = {
    "keras-team/keras": _ts(2015, 11, 2),
    "pytorch/pytorch": _ts(2016, 9, 1),
    "tensorflow/tensorflow": _ts(2015, 11, 9),
}
REPO_FIRST_NUMBER = {"keras-team/keras": 900, "pytorch/pytorch": 40, "tensorflow/tensorflow": 1}
_DAY_STR: dict[int, str] = {}


def _fmt(ts: int) -> str:
    d, s = divmod(int(ts), DAY)
    day = _DAY_STR.get(d)
    if day is None:
        day = _DAY_STR[d] = (_EPOCH + timedelta(days=d)).strftime("%Y-%m-%d")
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{day}T{h:02d}:{m:02d}:{s:02d}Z"


def _year(ts: int) -> int:
    return (_EPOCH + timedelta(seconds=ts)).year


def _library(repo: str) -> str:
    low = repo.lower()
    if "keras" in low:
        return "Keras"
    if "torch" in low:
        return "PyTorch"
    return "TensorFlow"


# =====================================================================================
# Users
# =====================================================================================

_FIRST = [
    "alex",
    "maria",
    "wei",
    "jun",
    "li",
    "chen",
    "ahmed",
    "fatima",
    "ivan",
    "olga",
    "lucas",
    "sofia",
    "raj",
    "priya",
    "kenji",
    "yuki",
    "min",
    "ji",
    "carlos",
    "ana",
    "david",
    "sarah",
    "tom",
    "emma",
    "omar",
    "leila",
    "pablo",
    "marta",
    "nikita",
    "anya",
    "hao",
    "xin",
    "arjun",
    "kavya",
    "mohamed",
    "amira",
    "daniel",
    "julia",
    "felix",
    "lena",
    "mateo",
    "camila",
    "sven",
    "ingrid",
    "tariq",
    "noor",
    "yusuf",
    "elif",
    "kwame",
    "ama",
    "diego",
    "lucia",
    "pierre",
    "chloe",
    "jakub",
    "zofia",
    "andrei",
    "irina",
    "tuan",
    "linh",
    "hyun",
    "seo",
    "ravi",
    "ananya",
    "george",
    "hannah",
    "ben",
    "nora",
    "sam",
    "ria",
    "vikram",
    "meera",
    "akira",
    "haruto",
    "sana",
    "dmitri",
    "katya",
    "joao",
    "beatriz",
    "finn",
    "maja",
    "oskar",
    "ida",
    "yan",
    "rui",
    "kai",
    "mei",
    "ashok",
    "deepa",
    "kofi",
    "efua",
    "hamza",
    "zainab",
]
_LAST = [
    "zhang",
    "wang",
    "liu",
    "kumar",
    "sharma",
    "singh",
    "patel",
    "nguyen",
    "kim",
    "park",
    "lee",
    "tanaka",
    "suzuki",
    "sato",
    "ivanov",
    "petrov",
    "smirnov",
    "garcia",
    "martinez",
    "lopez",
    "silva",
    "santos",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "rossi",
    "bianchi",
    "dubois",
    "moreau",
    "novak",
    "kowalski",
    "nowak",
    "jensen",
    "larsen",
    "hansen",
    "johansson",
    "andersson",
    "okafor",
    "mensah",
    "haddad",
    "rahman",
    "hossain",
    "khan",
    "ali",
    "yilmaz",
    "demir",
    "kaya",
    "cohen",
    "levi",
    "brown",
    "smith",
    "jones",
    "taylor",
    "wilson",
    "davies",
    "evans",
    "walker",
    "white",
    "clark",
    "lewis",
    "young",
    "hall",
    "allen",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "roberts",
    "carter",
    "phillips",
    "turner",
    "parker",
    "collins",
    "edwards",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
    "morgan",
    "cooper",
    "peterson",
    "reed",
    "bailey",
    "bell",
    "gomez",
    "kelly",
    "howard",
    "ward",
    "cox",
    "diaz",
    "richardson",
    "wood",
    "watson",
    "brooks",
    "bennett",
    "gray",
    "james",
    "reyes",
    "cruz",
    "hughes",
    "price",
    "myers",
    "long",
    "foster",
    "sanders",
    "ross",
    "morales",
    "powell",
    "sullivan",
    "russell",
    "ortiz",
    "gupta",
    "iyer",
    "reddy",
    "rao",
    "nair",
    "menon",
    "das",
    "bose",
    "chatterjee",
    "sun",
    "zhao",
    "huang",
    "zhou",
    "wu",
    "xu",
    "yang",
    "ma",
    "gao",
    "lin",
    "he",
    "luo",
    "song",
    "tang",
    "han",
    "feng",
    "deng",
    "cao",
    "yamamoto",
    "kobayashi",
    "watanabe",
    "ito",
    "nakamura",
    "oliveira",
    "pereira",
    "costa",
    "almeida",
    "ferreira",
]
# Substrings that would make a human login look like a bot or name a registry service.
_FORBIDDEN_IN_LOGIN = (
    "bot",
    "ghost",
    "jenkins",
    "travis",
    "butler",
    "stale",
    "kokoro",
    "circle",
    "codecov",
    "coverall",
    "copybara",
    "mention",
    "merge",
    "welcome",
    "renovate",
    "lock",
    "appveyor",
    "netlify",
    "mergify",
    "actions",
    "gardener",
    "team",
)
NEGATIVE_LOGINS = (
    "abbott-j",
    "botond",
    "talbot42",
    "cabot-ml",
    "nbottger",
    "lebotlan",
    "sabotka",
    "botirov-a",
    "jtalbot",
    "m-bottcher",
    "abbot-lee",
)


def _user(login: str, uid: int, utype: str = "User") -> dict:
    quoted = login.replace("[", "%5B").replace("]", "%5D")
    if utype == "Bot":
        html = "https://github.com/apps/" + login[:-5]
    else:
        html = "https://github.com/" + login
    return {
        "login": login,
        "id": uid,
        "node_id": f"SYNTH_U_{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": "https://api.github.com/users/" + quoted,
        "html_url": html,
        "type": utype,
        "site_admin": False,
    }


GHOST = _user("ghost", 10137)

# login -> (type, author_association, app slug, app display name, app owner)
_BOT_ACCOUNTS = {
    "tensorflowbutler": ("User", "MEMBER", None, None, None),
    "tensorflow-bot[bot]": ("Bot", "NONE", "tensorflow-bot", "TensorFlow Bot", "tensorflow"),
    "google-ml-butler[bot]": ("Bot", "NONE", "google-ml-butler", "Google ML Butler", "google"),
    "googlebot": ("User", "NONE", None, None, None),
    "google-cla[bot]": ("Bot", "NONE", "google-cla", "Google CLA", "google"),
    "copybara-service[bot]": ("Bot", "NONE", "copybara-service", "Copybara Service", "google"),
    "tensorflow-jenkins": ("User", "NONE", None, None, None),
    "facebook-github-bot": ("User", "CONTRIBUTOR", None, None, None),
    "pytorchbot": ("User", "COLLABORATOR", None, None, None),
    "pytorchmergebot": ("User", "COLLABORATOR", None, None, None),
    "pytorch-probot[bot]": ("Bot", "NONE", "pytorch-probot", "PyTorch Probot", "pytorch"),
    "codecov[bot]": ("Bot", "NONE", "codecov", "Codecov", "codecov"),
    "coveralls": ("User", "NONE", None, None, None),
    "stale[bot]": ("Bot", "NONE", "stale", "Stale", "probot"),
    "mention-bot": ("User", "NONE", None, None, None),
    "github-actions[bot]": ("Bot", "NONE", "github-actions", "GitHub Actions", "github"),
}
# login -> registry entry name (truth.csv "bots" column)
_REGISTRY_NAME = {
    "tensorflowbutler": "tensorflowbutler",
    "tensorflow-bot[bot]": "tensorflow-bot",
    "google-ml-butler[bot]": "google-ml-butler",
    "googlebot": "googlebot",
    "google-cla[bot]": "google-cla",
    "copybara-service[bot]": "copybara",
    "tensorflow-jenkins": "tensorflow-jenkins",
    "facebook-github-bot": "facebook-github-bot",
    "pytorchbot": "pytorchbot",
    "pytorchmergebot": "pytorchmergebot",
    "pytorch-probot[bot]": "pytorch-probot",
    "codecov[bot]": "codecov",
    "coveralls": "coveralls",
    "stale[bot]": "stale",
    "mention-bot": "mention-bot",
    "github-actions[bot]": "github-actions",
}


def _build_bots() -> tuple[dict, dict]:
    users, apps = {}, {}
    for k, (login, (utype, _assoc, slug, name, owner)) in enumerate(sorted(_BOT_ACCOUNTS.items())):
        uid = 90_000_101 + 1009 * k
        users[login] = _user(login, uid, utype)
        if slug:
            org = _user(owner, 80_000_001 + 313 * k, "Organization")
            apps[login] = {
                "id": 70_001 + 97 * k,
                "slug": slug,
                "node_id": f"SYNTH_A_{slug}",
                "owner": org,
                "name": name,
                "description": f"{name} (synthetic)",
                "external_url": f"https://github.com/apps/{slug}",
                "html_url": f"https://github.com/apps/{slug}",
                "created_at": "2016-09-01T00:00:00Z",
                "updated_at": "2021-01-01T00:00:00Z",
                "permissions": {"issues": "write", "metadata": "read", "pull_requests": "write"},
                "events": ["issue_comment", "issues", "pull_request"],
            }
    return users, apps


BOT_USERS, BOT_APPS = _build_bots()


# =====================================================================================
# Vocabulary
# =====================================================================================

_OSES = (
    "Ubuntu 16.04",
    "Ubuntu 18.04",
    "Ubuntu 20.04",
    "Windows 10",
    "macOS 10.14",
    "macOS 10.15",
    "macOS 11.2",
    "CentOS 7",
    "Debian 10",
    "Arch Linux",
    "Fedora 33",
    "Windows Server 2019",
    "Ubuntu 14.04",
)
_GPUS = (
    "GTX 1080 Ti 11GB",
    "RTX 2080 Ti",
    "Tesla V100 16GB",
    "Tesla K80",
    "Titan X (Pascal)",
    "RTX 3090",
    "Tesla T4",
    "GTX 1060 6GB",
    "A100 40GB",
    "Quadro P5000",
    "no GPU",
)
_PYS = ("2.7", "3.5", "3.6", "3.6", "3.7", "3.7", "3.8", "3.8", "3.9")
_CUDAS = (
    "8.0 / cuDNN 5.1",
    "9.0 / cuDNN 7.0",
    "10.0 / cuDNN 7.4",
    "10.1 / cuDNN 7.6",
    "10.2 / cuDNN 7.6",
    "11.0 / cuDNN 8.0",
    "11.2 / cuDNN 8.1",
)
_DTYPES = ("float16", "bfloat16", "float64", "int8", "complex64", "int64", "bool", "uint8")
_VERSIONS = {
    "TensorFlow": {
        2015: ("0.5", "0.6"),
        2016: ("0.9", "0.10", "0.11", "0.12", "1.0.0-rc0"),
        2017: ("1.0", "1.1", "1.2", "1.3", "1.4"),
        2018: ("1.5", "1.8", "1.10", "1.12"),
        2019: ("1.13", "1.14", "2.0", "1.15"),
        2020: ("2.1", "2.2", "2.3", "2.4"),
        2021: ("2.4", "2.5", "2.6", "2.7"),
    },
    "Keras": {
        2015: ("0.3.0", "0.3.1"),
        2016: ("1.0.4", "1.1.1", "1.2.0"),
        2017: ("2.0.2", "2.0.8", "2.1.2"),
        2018: ("2.1.6", "2.2.0", "2.2.4"),
        2019: ("2.2.4", "2.2.5", "2.3.0", "2.3.1"),
        2020: ("2.3.1", "2.4.0", "2.4.3"),
        2021: ("2.4.3", "2.5.0", "2.6.0", "2.7.0"),
    },
    "PyTorch": {
        2016: ("0.1.6", "0.1.9"),
        2017: ("0.1.12", "0.2.0", "0.3.0"),
        2018: ("0.4.0", "0.4.1", "1.0.0"),
        2019: ("1.0.1", "1.1.0", "1.2.0", "1.3.1"),
        2020: ("1.4.0", "1.5.0", "1.6.0", "1.7.0"),
        2021: ("1.8.0", "1.8.1", "1.9.0", "1.10.0"),
    },
}
_NIGHTLY = {
    "TensorFlow": "pip install tf-nightly",
    "Keras": "pip install keras-nightly",
    "PyTorch": "pip install --pre torch -f https://download.pytorch.org/whl/nightly/cu102/torch_nightly.html",
}
_APIS = {
    "TensorFlow": (
        "tf.data.Dataset.map",
        "tf.function",
        "tf.keras.Model.fit",
        "tf.GradientTape",
        "tf.distribute.MirroredStrategy",
        "tf.lite.TFLiteConverter",
        "tf.saved_model.save",
        "tf.image.resize",
        "tf.signal.stft",
        "tf.sparse.to_dense",
        "tf.io.TFRecordWriter",
        "tf.estimator.Estimator",
        "tf.nn.conv2d",
        "tf.linalg.matmul",
        "tf.compat.v1.Session.run",
        "tf.config.experimental.set_memory_growth",
        "tf.random.stateless_uniform",
        "tf.strings.split",
        "tf.math.segment_sum",
        "tf.nn.ctc_loss",
        "tf.while_loop",
        "tf.train.Saver",
        "tf.image.decode_jpeg",
        "tf.raw_ops.Conv3DBackpropInputV2",
    ),
    "Keras": (
        "Model.fit_generator",
        "Conv2D",
        "LSTM",
        "TimeDistributed",
        "BatchNormalization",
        "ImageDataGenerator.flow_from_directory",
        "Model.save",
        "load_model",
        "Embedding",
        "Bidirectional",
        "ModelCheckpoint",
        "EarlyStopping",
        "Lambda",
        "multi_gpu_model",
        "Sequential.predict",
        "K.function",
        "Dropout",
        "GRU",
        "Concatenate",
        "Conv2DTranspose",
        "SeparableConv2D",
        "Model.evaluate",
        "Masking",
        "CuDNNLSTM",
    ),
    "PyTorch": (
        "torch.nn.functional.interpolate",
        "torch.utils.data.DataLoader",
        "torch.jit.script",
        "torch.distributed.all_reduce",
        "torch.nn.DataParallel",
        "torch.onnx.export",
        "torch.cuda.amp.autocast",
        "torch.fft.rfft",
        "torch.linalg.svd",
        "torch.nn.LSTM",
        "torch.einsum",
        "torch.sparse.mm",
        "torch.autograd.grad",
        "torch.Tensor.index_add_",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.quantization.quantize_dynamic",
        "torch.nn.Conv3d",
        "torch.save",
        "torch.multinomial",
        "torch.cdist",
        "torch.nn.functional.grid_sample",
        "torch.cat",
        "torch.topk",
        "torch.nn.Embedding",
    ),
}
_ERRORS = {
    "TensorFlow": (
        "InvalidArgumentError: Incompatible shapes: [32,10] vs. [32,1]",
        "ResourceExhaustedError: OOM when allocating tensor with shape[64,256,56,56]",
        "InternalError: Blas GEMM launch failed",
        "NotFoundError: Op type not registered 'IO>DecodeAvro'",
        "ValueError: Shapes (None, 10) and (None, 1) are incompatible",
        "TypeError: Cannot convert a symbolic Tensor to a numpy array",
        "UnknownError: Failed to get convolution algorithm. This is probably because cuDNN failed to initialize",
        "ImportError: DLL load failed: The specified module could not be found.",
        "FailedPreconditionError: Attempting to use uninitialized value dense/kernel",
        "AttributeError: module 'tensorflow' has no attribute 'placeholder'",
        "Segmentation fault (core dumped)",
    ),
    "Keras": (
        "ValueError: Error when checking target: expected dense_2 to have shape (1,) but got array with shape (10,)",
        "AttributeError: 'Tensor' object has no attribute '_keras_history'",
        "ValueError: Unknown layer: AttentionLayer",
        "TypeError: can't pickle _thread.RLock objects",
        "MemoryError",
        "ValueError: Negative dimension size caused by subtracting 3 from 1",
        "InvalidArgumentError: You must feed a value for placeholder tensor 'input_1'",
        "OSError: Unable to open file (unable to open file: name = 'model.h5')",
        "RuntimeError: You must compile your model before using it.",
    ),
    "PyTorch": (
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
        "RuntimeError: expected scalar type Float but found Double",
        "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation",
        "RuntimeError: CUDA error: device-side assert triggered",
        "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.",
        "RuntimeError: Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
        "RuntimeError: cuDNN error: CUDNN_STATUS_EXECUTION_FAILED",
        "TypeError: can't convert CUDA tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
        "RuntimeError: NCCL error in: ../torch/lib/c10d/ProcessGroupNCCL.cpp:825, unhandled system error",
        "Segmentation fault (core dumped)",
        "OSError: [WinError 126] The specified module could not be found",
    ),
}
_COMPS = {
    "TensorFlow": (
        "comp:ops",
        "comp:keras",
        "comp:lite",
        "comp:data",
        "comp:dist-strat",
        "comp:gpu",
        "comp:xla",
        "comp:apis",
        "comp:tf.function",
        "comp:core",
    ),
    "Keras": ("backend:tensorflow", "backend:theano", "backend:cntk", "To investigate"),
    "PyTorch": (
        "module: nn",
        "module: cuda",
        "module: autograd",
        "module: onnx",
        "module: jit",
        "module: dataloader",
        "module: distributed",
        "module: docs",
        "module: windows",
        "module: performance",
        "module: build",
        "module: optimizer",
        "module: sparse",
    ),
}
_TYPE_LABELS = {
    "TensorFlow": {
        "bug": "type:bug",
        "feature": "type:feature",
        "question": "type:support",
        "docs": "type:docs-bug",
        "perf": "type:performance",
        "build": "type:build/install",
    },
    "Keras": {
        "bug": "type:bug/performance",
        "feature": "type:feature",
        "question": "type:support",
        "docs": "type:docs",
        "perf": "type:bug/performance",
        "build": "type:support",
    },
    "PyTorch": {
        "bug": "triaged",
        "feature": "enhancement",
        "question": "triaged",
        "docs": "module: docs",
        "perf": "module: performance",
        "build": "module: build",
    },
}
# Labels ordinary PRs carry. No bot-applied label here (`cla: yes`, `cla signed`, `stale`): by
# the rating guide a bot's label makes a thread bot-related, so those come with their scenarios.
_PR_LABELS = {
    "TensorFlow": (
        "size:S",
        "size:M",
        "size:XS",
        "ready to pull",
        "awaiting review",
        "prtype:bugfix",
    ),
    "Keras": ("type:docs", "stat:awaiting review", "ready to pull"),
    "PyTorch": ("open source", "Merged", "triaged"),
}
_FILES = {
    "TensorFlow": (
        "tensorflow/python/ops/array_ops.py",
        "tensorflow/core/kernels/conv_ops.cc",
        "tensorflow/python/keras/engine/training.py",
        "tensorflow/lite/kernels/add.cc",
        "tensorflow/python/data/ops/dataset_ops.py",
        "tensorflow/compiler/xla/service/gpu/ir_emitter.cc",
        "tensorflow/python/framework/func_graph.py",
        "tensorflow/core/ops/math_ops.cc",
    ),
    "Keras": (
        "keras/engine/training.py",
        "keras/layers/recurrent.py",
        "keras/backend/tensorflow_backend.py",
        "keras/callbacks.py",
        "keras/preprocessing/image.py",
        "keras/layers/convolutional.py",
        "keras/utils/data_utils.py",
        "docs/templates/getting-started/faq.md",
    ),
    "PyTorch": (
        "torch/nn/modules/conv.py",
        "aten/src/ATen/native/TensorShape.cpp",
        "torch/utils/data/dataloader.py",
        "torch/csrc/autograd/engine.cpp",
        "torch/onnx/symbolic_opset11.py",
        "torch/nn/functional.py",
        "aten/src/ATen/native/cuda/Indexing.cu",
        "test/test_nn.py",
        "torch/distributed/distributed_c10d.py",
    ),
}
_PARAMS = {
    "TensorFlow": (
        "experimental_relax_shapes=True",
        "allow_growth=True",
        "num_parallel_calls=tf.data.AUTOTUNE",
        "jit_compile=True",
        "TF_FORCE_GPU_ALLOW_GROWTH=true",
        "drop_remainder=True",
    ),
    "Keras": (
        "workers=1, use_multiprocessing=False",
        "stateful=True",
        "compile=False",
        "custom_objects={'f1': f1}",
        "steps_per_epoch=len(gen)",
        "implementation=2",
    ),
    "PyTorch": (
        "num_workers=0",
        "pin_memory=False",
        "torch.backends.cudnn.benchmark = False",
        "align_corners=True",
        "find_unused_parameters=True",
        "CUDA_LAUNCH_BLOCKING=1",
    ),
}
_FEATURES = (
    "complex number support",
    "ragged inputs",
    "deterministic execution",
    "sparse gradients",
    "mixed precision",
    "a `dilation` argument",
    "channels_last memory format",
    "int8 quantization",
    "Apple M1 builds",
    "ARM64 wheels",
    "named dimensions",
    "gradient checkpointing",
    "a `padding='same'` option",
    "TPU support",
    "Python 3.9 wheels",
    "batched inputs",
)
_TASKS = (
    "freeze only the bottom layers of a pretrained model",
    "use a custom loss with two outputs",
    "load a checkpoint trained on GPU on a CPU-only machine",
    "get the attention weights out of the model",
    "feed variable-length sequences",
    "export the model for serving",
    "share weights between both branches",
    "compute per-sample gradients",
    "resume training from a checkpoint",
    "train on multiple GPUs",
)
_REQS = (
    "inputs of rank 4",
    "the batch dimension to be static",
    "float32 inputs",
    "contiguous tensors",
    "both tensors to be on the same device",
    "a known number of classes",
    "sorted indices",
)

_TITLES = {
    "bug": (
        "{err_short} when using {api}",
        "{api} gives wrong results for {dtype} inputs",
        "Memory leak in {api} ({lib} {ver})",
        "Segfault in {api} on {os}",
        "{api}: {dtype} is not supported",
        "{api} hangs forever with multiple workers",
        "NaN loss after a few epochs when using {api}",
        "{api} raises {err_short} after upgrading to {ver}",
        "Regression in {ver}: {api} output differs from {ver0}",
        "{api} ignores the {dtype} dtype argument",
        "Unexpected behaviour of {api} with empty inputs",
        "{err_short} in {api} on {gpu}",
    ),
    "perf": (
        "{api} is much slower on GPU than on CPU",
        "Performance bottleneck in {api} for large batch sizes",
        "{api} got 3x slower in {ver}",
    ),
    "feature": (
        "[Feature request] Support {feature} in {api}",
        "Add {feature} to {api}",
        "Feature request: {feature} for {api}",
        "Please support {feature}",
    ),
    "question": (
        "How to {task}?",
        "Question about {api} and {feature}",
        "How do I {task} with {api}?",
    ),
    "build": (
        "Cannot install {lib} {ver} on {os} with Python {py}",
        "Build from source fails on {os}",
        "ImportError after installing {lib} {ver} on {os}",
    ),
    "docs": (
        "Documentation of {api} is misleading",
        "Docs for {api} do not mention {dtype}",
        "Broken example in the {api} docs",
    ),
}
_PR_TITLES = (
    "Fix {dtype} support in {api}",
    "Add {feature} to {api}",
    "Update docs for {api}",
    "Fix typo in {file}",
    "Speed up {api} for large inputs",
    "[{comp}] Remove unused code in {file}",
    "Fix crash in {api} when input is empty",
    "Add test for {api}",
    "Raise a clear error for {dtype} inputs in {api}",
    "Refactor {file}",
    "Fix memory leak in {api}",
    "Support {feature} in {api}",
)
_REPORTER_SENTENCES = (
    "I have the same issue with {lib} {ver} on {os}.",
    "Same here on {os2} with Python {py}.",
    "Any update on this?",
    "Still happening with {lib} {ver2}.",
    "Thanks! Upgrading to {ver2} fixed it for me.",
    "I can confirm this on both CPU and GPU ({gpu}).",
    "Here is a minimal example that reproduces it:\n\n```python\n{code}\n```",
    "Full traceback:\n\n```\n{trace}\n```",
    "I tried `{param}` but the error is the same.",
    "Profiling shows that `{api}` is the bottleneck, about {pct}% of the step time.",
    "If you scroll to the bottom of the log the actual error is `{err}`.",
    "Workaround for anyone hitting this: pin {lib} to {ver0}.",
    "It works fine on {os2} but fails on {os}.",
    "Downgrading to {ver0} makes both errors go away.",
    "Thanks for the quick reply, I'll try that.",
    "That fixed it, thank you!",
    "+1",
    "Is there a workaround until this is fixed?",
    "Sorry for the late reply. I tested with the nightly and it still fails.",
    "The memory keeps growing until the process is killed, so it looks like a leak in `{api}`.",
    "Output of `pip list`:\n\n```\n{piplist}\n```",
    "I'm seeing this too, but only with batch size {bs} or larger.",
    "It seems the bottom layers are never updated when I do this.",
    "@{m} any idea what could cause this?",
    "I put a bottle of coffee on it and it still fails :) More seriously, it also happens with {dtype}.",
    "Both suggestions above didn't help, unfortunately.",
    "I think the problem is in `{file}`, line {line}.",
    "Could this be related to #{num}?",
)
_MAINT_SENTENCES = (
    "Thanks for reporting. Could you share a minimal code snippet to reproduce the issue?",
    "I was able to reproduce this with {lib} {ver}. Please find the gist [here](https://colab.research.google.com/gist/{m}/{hex12}/untitled{n}.ipynb).",
    "@{author} Can you please try with the latest nightly (`{nightly}`) and let us know if the issue persists?",
    "This is expected behavior: `{api}` requires {req}. See the documentation for details.",
    "Looks like a duplicate of #{num}. Let's continue the discussion there.",
    "Assigning to @{m2}, who is more familiar with this part of the code.",
    "This should be fixed in {ver2}. Please reopen if you still see it.",
    "We are working on a fix; it should land in the next release.",
    "Can you check whether both machines use the same CUDA version?",
    "A PR with a fix would be welcome!",
    "Please post usage questions on Stack Overflow; GitHub issues are for bugs and feature requests.",
    "I think the bottleneck is the host-to-device copy, not `{api}` itself.",
    "Could you try `{param}` and see if that changes anything?",
    "Marking this as a feature request. Contributions are welcome.",
    "@{author} Could you please provide the complete code and the dataset so we can reproduce this?",
    "Closing since this has been fixed. Feel free to reopen if the problem persists.",
    "The fix is in #{num}, it will be part of {ver2}.",
    "@{author} Is this still an issue with {ver2}? I cannot reproduce it anymore.",
    "This was a known limitation of `{api}`; see the note at the bottom of the docs page.",
    "Thanks for the detailed report, we'll take a look.",
)
_PR_SENTENCES = (
    "LGTM, thanks!",
    "Thanks for the PR! Could you add a unit test for this?",
    "Please rebase on the latest master.",
    "Left a few comments.",
    "Addressed both comments, PTAL.",
    "Done. PTAL.",
    "Could you also update the docstring of `{api}`?",
    "Nice catch, thanks!",
    "This changes the public API; can you add a deprecation warning instead?",
    "Thanks, merged.",
    "Can you squash the commits?",
    "I'm not sure this is the right place for the fix; the bottleneck is upstream in `{file}`.",
    "Approved.",
    "Tests pass locally for both Python 2 and 3.",
    "Could you run the formatter on `{file}`?",
    "@{m2} could you take a look?",
    "Friendly ping @{m}",
    "Updated, thanks for the review.",
    "Is this still needed after #{num}?",
    "Benchmarks before/after:\n\n```\n{bench}\n```",
    "Sorry for the delay, I was travelling. Will update this week.",
    "The new test fails on my machine with `{err}`, can you check?",
)
_FUNNY = (
    "同样的问题，在 {os} 上也出现了。请问有解决办法吗？",
    "👍 same here 🙏",
    "مرحبا، I get the same error with {lib} {ver}.",
    "שלום, any news? \u200fזה עדיין קורה\u200f",
    "same\u200b issue\u200b here (copied from a zero\u200bwidth-space riddled log)",
    "Ｔｈａｎｋｓ！ Fixed by reinstalling. 🎉🎉",
    "나도 같은 문제가 있습니다. {os}, {gpu}",
    "Спасибо, помогло обновление до {ver2}.",
    "🤔 does `{api}` support {dtype}? ¯\\_(ツ)_/¯",
)
_PR_BODIES = (
    "Fixes #{num}.\n\nThis PR {verb} `{api}` so that {dtype} inputs are handled correctly. Both the CPU and the GPU kernels are covered by the new test.",
    "This change {verb} `{api}`.\n\nBefore:\n```\n{bench}\n```\n\nThe bottleneck was an unnecessary copy in `{file}`.",
    "Small docs fix for `{api}`: the example at the bottom of the page used a removed argument.",
    "{verb_cap} `{file}`. No functional change.",
    "Closes #{num}. Adds {feature} to `{api}` and a test in `{file}`.",
    "Stack from [ghstack](https://github.com/ezyang/ghstack) (oldest at bottom):\n* **#{num}** {verb_cap} `{api}`\n\nSummary: {verb} `{api}` for {dtype} tensors.",
)
_VERBS = ("fixes", "refactors", "speeds up", "cleans up", "adds input validation to", "documents")


def _traceback(lib: str, r: random.Random, s: _Slots) -> str:
    py = s["py"]
    if lib == "PyTorch":
        return (
            f'Traceback (most recent call last):\n  File "main.py", line {r.randint(10, 300)}, in <module>\n'
            f'    loss.backward()\n  File "/opt/conda/lib/python{py}/site-packages/torch/tensor.py", line {r.randint(100, 300)}, in backward\n'
            f"    torch.autograd.backward(self, gradient, retain_graph, create_graph)\n"
            f'  File "/opt/conda/lib/python{py}/site-packages/torch/autograd/__init__.py", line {r.randint(90, 160)}, in backward\n'
            f"    allow_unreachable=True)  # allow_unreachable flag\n{s['err']}"
        )
    if lib == "Keras":
        return (
            f'Traceback (most recent call last):\n  File "train.py", line {r.randint(10, 300)}, in <module>\n'
            f"    model.fit(x_train, y_train, batch_size={s['bs']}, epochs=10)\n"
            f'  File "/usr/local/lib/python{py}/site-packages/keras/engine/training.py", line {r.randint(900, 1300)}, in fit\n'
            f'    batch_size=batch_size)\n  File "/usr/local/lib/python{py}/site-packages/keras/engine/training.py", line {r.randint(700, 800)}, in _standardize_user_data\n'
            f"    exception_prefix='target')\n{s['err']}"
        )
    return (
        f'Traceback (most recent call last):\n  File "train.py", line {r.randint(10, 300)}, in <module>\n'
        f'    main()\n  File "train.py", line {r.randint(10, 300)}, in main\n    outputs = model(inputs, training=True)\n'
        f'  File "/usr/local/lib/python{py}/dist-packages/tensorflow/python/eager/def_function.py", line {r.randint(500, 900)}, in __call__\n'
        f"    result = self._call(*args, **kwds)\n"
        f'  File "/usr/local/lib/python{py}/dist-packages/tensorflow/python/eager/execute.py", line {r.randint(40, 80)}, in quick_execute\n'
        f"    inputs, attrs, num_outputs)\n"
        + (
            "tensorflow.python.framework.errors_impl."
            if s["err"].split(":")[0].endswith("Error")
            and s["err"][0] in "IRNFUTi"
            and "Import" not in s["err"]
            and "Type" not in s["err"]
            else ""
        )
        + s["err"]
    )


def _code(lib: str, r: random.Random, s: _Slots) -> str:
    api, bs, dim = s["api"], s["bs"], r.choice((3, 8, 16, 64, 128, 256, 512))
    if lib == "PyTorch":
        return r.choice(
            (
                f"import torch\n\nx = torch.randn({bs}, {dim}, device='cuda', dtype=torch.{s['dtype']})\nout = {api}(x)\nprint(out.shape)",
                f"import torch\nimport torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear({dim}, {dim}), nn.ReLU(), nn.Linear({dim}, 1)).cuda()\n"
                f"opt = torch.optim.Adam(model.parameters(), lr=1e-3)\nfor xb, yb in loader:\n    loss = nn.functional.mse_loss(model(xb.cuda()), yb.cuda())\n"
                f"    opt.zero_grad()\n    loss.backward()\n    opt.step()",
                f"loader = torch.utils.data.DataLoader(ds, batch_size={bs}, shuffle=True, num_workers=4)\nfor i, (x, y) in enumerate(loader):\n    y_hat = model(x)  # {api}",
            )
        )
    if lib == "Keras":
        return r.choice(
            (
                f"from keras.models import Sequential\nfrom keras.layers import Dense, LSTM\n\nmodel = Sequential()\n"
                f"model.add(LSTM({dim}, input_shape=(20, {dim})))\nmodel.add(Dense(1, activation='sigmoid'))\n"
                f"model.compile(loss='binary_crossentropy', optimizer='adam')\nmodel.fit(x, y, batch_size={bs}, epochs=5)",
                f"inp = Input(shape=(224, 224, 3))\nx = Conv2D({dim}, (3, 3), padding='same')(inp)\nx = BatchNormalization()(x)\n"
                f"out = Dense(10, activation='softmax')(Flatten()(x))\nmodel = Model(inp, out)  # uses {api}",
            )
        )
    return r.choice(
        (
            f"import tensorflow as tf\n\nx = tf.random.uniform(({bs}, {dim}), dtype=tf.{s['dtype']})\ny = {api}(x)\nprint(y.shape)",
            f"import tensorflow as tf\n\nmodel = tf.keras.Sequential([\n    tf.keras.layers.Dense({dim}, activation='relu'),\n    tf.keras.layers.Dense(1),\n])\n"
            f"model.compile(optimizer='adam', loss='mse')\nmodel.fit(dataset, epochs=5)",
            f"ds = tf.data.TFRecordDataset(files)\nds = ds.map(parse_fn, num_parallel_calls=4).batch({bs})\nfor batch in ds:\n    train_step(batch)  # {api}",
        )
    )


def _piplist(lib: str, s: _Slots) -> str:
    pkg = {"TensorFlow": "tensorflow-gpu", "Keras": "Keras", "PyTorch": "torch"}[lib]
    return f"numpy            1.{16 + len(s['ver']) % 5}.{len(s['os']) % 4}\n{pkg:<16} {s['ver']}\nprotobuf         3.{len(s['api']) % 15}.0\nsix              1.15.0"


def _bench(r: random.Random) -> str:
    a = r.uniform(5, 400)
    return f"before: {a:.1f} ms/iter\nafter:  {a * r.uniform(0.3, 0.95):.1f} ms/iter"


class _Slots(dict):
    """Thread-level template values, created lazily on first use by str.format_map."""

    __slots__ = ("g", "r", "ts")

    def __missing__(self, key: str):
        g, r = self.g, self.r
        lib = g.lib
        if key == "ver":
            v = r.choice(g.versions(self.ts))
        elif key == "ver0":
            v = g.versions(self.ts - 300 * DAY)[0]
        elif key == "ver2":
            v = g.versions(min(self.ts + 200 * DAY, END_TS))[-1]
        elif key == "os" or key == "os2":
            v = r.choice(_OSES)
        elif key == "py":
            v = r.choice(_PYS)
        elif key == "gpu":
            v = r.choice(_GPUS)
        elif key == "cuda":
            v = r.choice(_CUDAS)
        elif key == "api":
            v = r.choice(_APIS[lib])
        elif key == "err":
            v = r.choice(_ERRORS[lib])
        elif key == "err_short":
            v = self["err"].split(":")[0]
        elif key == "dtype":
            v = r.choice(_DTYPES)
        elif key == "param":
            v = r.choice(_PARAMS[lib])
        elif key == "comp":
            v = r.choice(_COMPS[lib]).split(":")[-1].strip()
        elif key == "file":
            v = r.choice(_FILES[lib])
        elif key == "feature":
            v = r.choice(_FEATURES)
        elif key == "task":
            v = r.choice(_TASKS)
        elif key == "req":
            v = r.choice(_REQS)
        elif key == "num":
            return r.randint(
                max(1, g.number_hint - 4000), max(1, g.number_hint - 1)
            )  # varies per use
        elif key == "pct":
            return r.randint(35, 95)
        elif key == "bs":
            v = r.choice((8, 16, 32, 64, 128, 256, 1024))
        elif key == "line":
            return r.randint(20, 2400)
        elif key == "n":
            return r.randint(1, 40)
        elif key == "hex12":
            return f"{r.getrandbits(128):032x}"
        elif key == "nightly":
            v = _NIGHTLY[lib]
        elif key == "code":
            return _code(lib, r, self)
        elif key == "trace":
            return _traceback(lib, r, self)
        elif key == "piplist":
            return _piplist(lib, self)
        elif key == "bench":
            return _bench(r)
        elif key == "verb":
            return r.choice(_VERBS)
        elif key == "verb_cap":
            vb = r.choice(_VERBS)
            return vb[:1].upper() + vb[1:]
        elif key in ("m", "m2"):
            v = g.maint_login()
        elif key == "lib":
            v = lib
        else:
            raise KeyError(key)
        self[key] = v
        return v


def _slots(g: _RepoGen, ts: int, author: str) -> _Slots:
    s = _Slots(author=author)
    s.g, s.r, s.ts = g, g.r, ts
    return s


# =====================================================================================
# Thread content for ordinary (non-bot) threads
# =====================================================================================


def _issue_body(g: _RepoGen, s: _Slots, kind: str, missing: tuple[str, ...] = ()) -> str:
    r, lib = g.r, g.lib
    year = _year(s.ts)
    if kind == "question":
        return (
            f"I am trying to {s['task']} with `{s['api']}`. "
            + r.choice(
                (
                    "Is there a recommended way to do this?",
                    "The docs don't say whether both cases are supported.",
                    "What is the right approach here?",
                )
            )
            + (f"\n\n```python\n{s['code']}\n```" if r.random() < 0.6 else "")
        )
    if kind == "feature":
        return (
            f"**Describe the feature and the current behavior/state.**\nIt would be great if `{s['api']}` supported {s['feature']}. "
            "Currently I have to write a custom op, which is slow and becomes the bottleneck of the pipeline.\n\n"
            "**Will this change the current api? How?**\nA new optional argument.\n\n"
            "**Who will benefit with this feature?**\nAnyone who needs " + s["feature"] + "."
        )
    if lib == "TensorFlow":
        fields = [
            (
                "Have I written custom code (as opposed to using a stock example script provided in TensorFlow)",
                r.choice(("Yes", "No", "yes")),
            ),
            ("OS Platform and Distribution (e.g., Linux Ubuntu 16.04)", s["os"]),
            (
                "TensorFlow installed from (source or binary)",
                r.choice(("binary", "source", "pip", "conda")),
            ),
            ("TensorFlow version (use command below)", s["ver"]),
            ("Python version", s["py"]),
            ("Bazel version (if compiling from source)", r.choice(("N/A", "0.26.1", "3.1.0"))),
            ("CUDA/cuDNN version", s["cuda"]),
            ("GPU model and memory", s["gpu"]),
            ("Exact command to reproduce", "python train.py"),
        ]
        rows = [(k, v) for k, v in fields if not any(k.startswith(m) for m in missing)]
        if year < 2019:
            head = "### System information\n" + "\n".join(f"- **{k}**: {v}" for k, v in rows)
            return (
                head + f"\n\n### Describe the problem\n{_problem(g, s)}\n\n### Source code / logs\n"
                f"```\n{s['trace']}\n```"
            )
        head = "**System information**\n" + "\n".join(f"- {k}: {v}" for k, v in rows)
        return (
            head
            + f"\n\n**Describe the current behavior**\n{_problem(g, s)}\n\n**Describe the expected behavior**\n"
            f"No error.\n\n**Standalone code to reproduce the issue**\n```python\n{s['code']}\n```\n\n"
            f"**Other info / logs**\n```\n{s['trace']}\n```"
        )
    if lib == "Keras":
        if year < 2020 and r.random() < 0.5:
            return (
                "Please make sure that the boxes below are checked before you submit your issue.\n\n"
                "- [x] Check that you are up-to-date with the master branch of Keras.\n"
                f"- [x] If running on TensorFlow, check that you are up-to-date with the latest version.\n"
                "- [x] Provide a link to a GitHub Gist of a Python script that can reproduce your issue.\n\n"
                f"{_problem(g, s)}\n\n```python\n{s['code']}\n```"
            )
        return f"{_problem(g, s)}\n\nKeras {s['ver']}, backend {r.choice(('TensorFlow', 'Theano', 'CNTK', 'TensorFlow'))}, {s['os']}.\n\n```\n{s['trace']}\n```"
    if year >= 2018 and r.random() < 0.7:
        return (
            f"## 🐛 Bug\n\n{_problem(g, s)}\n\n## To Reproduce\n\nSteps to reproduce the behavior:\n\n```python\n{s['code']}\n```\n\n"
            f"```\n{s['trace']}\n```\n\n## Expected behavior\n\nNo error, same result as on CPU.\n\n## Environment\n\n"
            f" - PyTorch Version: {s['ver']}\n - OS: {s['os']}\n - How you installed PyTorch: {r.choice(('pip', 'conda', 'source'))}\n"
            f" - Python version: {s['py']}\n - CUDA/cuDNN version: {s['cuda']}\n - GPU models and configuration: {s['gpu']}"
        )
    return f"{_problem(g, s)}\n\n```python\n{s['code']}\n```\n\n```\n{s['trace']}\n```"


def _problem(g: _RepoGen, s: _Slots) -> str:
    return g.r.choice(
        (
            "Calling `{api}` with {dtype} inputs raises `{err}`.",
            "`{api}` returns NaN after a few hundred steps when both inputs are {dtype}.",
            "Training hangs at the bottom of the first epoch when using `{api}`.",
            "`{api}` is the bottleneck of my input pipeline: GPU utilization stays at {pct}%.",
            "After upgrading from {ver0} to {ver}, `{api}` fails with the error below.",
            "`{api}` gives different results on CPU and GPU ({gpu}).",
            "The process is killed because memory grows every step; it looks like `{api}` leaks.",
            "Loading a model saved with {ver0} fails in {ver}.",
        )
    ).format_map(s)


# =====================================================================================
# Bot scenarios (ground-truth positives) and hard negatives
# =====================================================================================
# A scenario returns a dict:
#   title/body: None -> generated like an ordinary thread
#   is_pr, labels (extra), assign (assign the main maintainer),
#   events: list of (gap_days or None, who, body or None)
#       who: "A" author, "M"/"M2" maintainers, "H" another human, "N" a "bot"-login human,
#            or a bot login from _BOT_ACCOUNTS; body None -> generated ordinary comment
#   close: None (open) | "after" (closed after the last event) | index of the closing event
#   reason: state_reason when closed; merged: PR merged
#   bots, cats, kind: ground truth


def _sha(r: random.Random, n: int = 40) -> str:
    return f"{r.getrandbits(160):040x}"[:n]


def _sc(**kw) -> dict:
    base = {
        "title": None,
        "body": None,
        "is_pr": False,
        "labels": [],
        "assign": False,
        "events": [],
        "close": None,
        "reason": "completed",
        "merged": False,
    }
    base.update(kw)
    return base


# The stale bots' policies, era by era: (start, days idle before the mark, days from the mark to
# the close). A bot applies the era in force when it runs (daily), so an issue idle across a
# change is marked when the new, shorter threshold is first checked. Tests recover these.
STALE_ERAS = {
    "stale[bot]": ((0, 90, 30), (_ts(2018, 9, 1), 60, 14)),
    "google-ml-butler[bot]": ((0, 7, 7),),
    "github-actions[bot]": ((0, 60, 30),),
}
STALE_LABELS = {
    "stale[bot]": "stale",
    "google-ml-butler[bot]": "stale",
    "github-actions[bot]": "Stale",
}


@dataclass(frozen=True)
class _StaleGap:
    """The gap before a stale bot's mark or close, decided when the thread's times are laid out
    (the policy depends on when the bot acts); `jitter` (days) is drawn where the scenario drew
    its gap before, so the random stream stays the same."""

    step: str
    bot: str
    jitter: float

    def days_after(self, t: int) -> float:
        """Days from `t` (the last post before a mark, or the mark before a close) until the
        bot acts under the era in force then."""
        eras = STALE_ERAS[self.bot]
        for k, (start, mark, close) in enumerate(eras):
            end = eras[k + 1][0] if k + 1 < len(eras) else float("inf")
            days = mark if self.step == "mark" else close
            moment = max(t + days * DAY, start)
            if moment < end:
                return (moment - t) / DAY + self.jitter
        raise AssertionError("unreachable: the last era never ends")


def _silent_close(gap, mark_ts: int, jitter: float) -> int:
    """Seconds from a stale mark to the bot's close that posts no comment."""
    bot = gap.bot if isinstance(gap, _StaleGap) else "stale[bot]"
    return int(_StaleGap("close", bot, jitter).days_after(mark_ts) * DAY)


def _humans(r: random.Random, lo: int, hi: int, who=("A", "M", "H")) -> list:
    return [(None, r.choice(who), None) for _ in range(r.randint(lo, hi))]


_TF_FIELDS = (
    "Have I written custom code",
    "OS Platform and Distribution",
    "TensorFlow installed from",
    "TensorFlow version",
    "Python version",
    "Bazel version",
    "CUDA/cuDNN version",
    "GPU model and memory",
    "Exact command to reproduce",
    "Mobile device",
)


def _nag_assignee(r, m, days):
    return r.choice(
        (
            f"Nagging Assignee @{m}: It has been {days} days with no activity and this issue has an assignee. Please update the label and/or status accordingly.",
            f"Nagging Assignee @{m}: It has been {days} days with no activity and this issue has an assignee. Please update the label and/or status accordingly.",
            f"Nagging Assignee: It has been {days} days with no activity and this issue has an assignee. Please update the label and/or status accordingly.",
        )
    )


def sc_tf_template(g, s):
    r = g.r
    missing = tuple(f for f in _TF_FIELDS if r.random() < 0.35) or (
        "Bazel version",
        "Exact command to reproduce",
    )
    body = _issue_body(g, s, "bug", missing=missing)
    msg = (
        "Thank you for your post. We noticed you have not filled out the following field in the issue template. "
        "Could you update them if they are relevant in your case, or leave them as N/A? Thanks.\n"
        + "\n".join(missing)
    )
    ev = [(r.uniform(0.001, 0.08), "tensorflowbutler", msg)]
    cats, close = ["onboarding"], "after"
    x = r.random()
    if x < 0.45:
        ev.append(
            (
                None,
                "A",
                r.choice(
                    (
                        f"Updated. {missing[0]}: N/A",
                        "I have updated the issue with the missing fields.",
                        f"{missing[-1]}: N/A (installed with pip). Sorry about that.",
                        "Done, all fields are filled now.",
                    )
                ),
            )
        )
    elif x < 0.6:
        ev.append(
            (
                None,
                "A",
                r.choice(
                    (
                        "Why does the bot ask for the Bazel version? I installed TensorFlow from pip.",
                        "The butler says the template is incomplete but I filled out everything above?",
                    )
                ),
            )
        )
    ev += _humans(r, 0, 3, ("A", "M", "M"))
    if r.random() < 0.3:
        cats.append("stale")
        ev.append(
            (
                r.uniform(14, 16.5),
                "tensorflowbutler",
                _nag_assignee(r, s["m"], r.choice((14, 15, 16))),
            )
        )
        close = "last" if r.random() < 0.5 else "after"
    return _sc(
        body=body,
        events=ev,
        labels=["stat:awaiting response"] if r.random() < 0.4 else [],
        assign="stale" in cats,
        close=close,
        bots=["tensorflowbutler"],
        cats=cats,
        kind="bot_posts",
    )


def sc_tf_nag(g, s):
    r = g.r
    is_pr = r.random() < 0.35
    ev = _humans(r, 0, 3, ("A", "M", "H"))
    days, k = 0, r.choice((1, 1, 2, 2, 3, 4))
    m = s["m"]
    for i in range(k):
        gap = r.choice((14, 15, 15, 16, 21, 29)) if i == 0 else r.choice((14, 15, 15, 16))
        days += gap
        if is_pr and r.random() < 0.5:
            text = (
                f"Nagging Reviewer @{m}: You have been added as a reviewer to this pull request. Please add your review or reassign. "
                f"It has been {days} days with no activity and the `awaiting review` label has been applied."
            )
        else:
            text = _nag_assignee(r, m, days)
        ev.append((gap + r.uniform(0, 0.4), "tensorflowbutler", text))
    close = None
    x = r.random()
    if x < 0.3:
        ev.append(
            (
                None,
                "M",
                r.choice(
                    (
                        "Sorry for the delay, looking at this now.",
                        "@{author} could you rebase? Then I'll take another look."
                        if is_pr
                        else "@{author} is this still reproducible with {ver2}?",
                    )
                ).format_map(s),
            )
        )
        ev += _humans(r, 0, 2, ("A", "M"))
        close = "after" if r.random() < 0.6 else None
    elif x < 0.55:
        ev.append(
            (
                r.uniform(3, 10),
                "tensorflowbutler",
                r.choice(
                    (
                        "We are closing this issue for now due to lack of activity. Please comment if this is still an issue for you. Thanks!",
                        "Automatically closing due to lack of recent activity. Please update the issue when new information becomes available, and we will reopen the issue. Thanks!",
                    )
                ),
            )
        )
        close = "last"
    elif is_pr and x < 0.75:
        ev.append(
            (
                r.uniform(14, 15),
                "tensorflowbutler",
                "It has been 14 days with no activity and the `awaiting response` label was assigned. Is this PR still valid? "
                "Assigning the `stalled` label. Please comment to reassure me that this is still being worked on.",
            )
        )
        ev.append(
            (
                r.uniform(28, 30),
                "tensorflowbutler",
                "It has been 28 days that this pull-request has stalled. Please create a new pull-request with the requested changes.",
            )
        )
        close = "last"
    return _sc(
        is_pr=is_pr,
        events=ev,
        assign=True,
        close=close,
        reason="not_planned",
        labels=["stalled"] if close == "last" and is_pr else [],
        bots=["tensorflowbutler"],
        cats=["stale"],
        kind="bot_posts",
    )


def sc_tf_awaiting(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "@{author} Could you please provide a minimal standalone code to reproduce the issue?",
                    "@{author} Can you please try with {lib} {ver2} and let us know if the issue persists?",
                    "Please share the complete code and the dataset so we can reproduce this.",
                )
            ).format_map(s),
        )
    )
    lbl = "awaiting response" if r.random() < 0.75 else "awaiting tensorflower"
    if lbl == "awaiting response":
        first = r.choice(
            (
                "It has been 14 days with no activity and the `awaiting response` label was assigned. Is this still an issue?",
                "Nagging Awaiting Response: It has been 14 days with no activity and the `awaiting response` label was assigned. Is this still an issue?",
                "It has been 15 days with no activity and the `awaiting response` label was assigned. Is this still an issue?",
            )
        )
    else:
        first = (
            "Nagging Awaiting TensorFlower: It has been 14 days with no activity and the `awaiting tensorflower` label was assigned. "
            "Please update the label and/or status accordingly."
        )
    ev.append((r.uniform(14, 15.5), "tensorflowbutler", first))
    close = "last"
    x = r.random()
    if x < 0.55:
        ev.append(
            (
                r.uniform(7, 20),
                "tensorflowbutler",
                r.choice(
                    (
                        "We are closing this issue for now due to lack of activity. Please comment if this is still an issue for you. Thanks!",
                        "Automatically closing due to lack of recent activity. Please update the issue when new information becomes available, and we will reopen the issue. Thanks!",
                    )
                ),
            )
        )
        if r.random() < 0.2:
            ev.append(
                (
                    r.uniform(1, 30),
                    "A",
                    "The issue still exists, the bot closed it only because nobody answered. Can someone reopen?",
                )
            )
            close = "before_last"
    elif x < 0.8:
        ev.append((None, "A", "Yes, still an issue with {lib} {ver2}.".format_map(s)))
        ev += _humans(r, 0, 2, ("M", "A"))
        close = "after" if r.random() < 0.5 else None
    else:
        ev.append(
            (
                r.uniform(14, 15),
                "tensorflowbutler",
                first.replace("14 days", "29 days").replace("15 days", "30 days"),
            )
        )
    return _sc(
        events=ev,
        labels=["stat:" + lbl],
        close=close,
        reason="not_planned",
        bots=["tensorflowbutler"],
        cats=["stale"],
        kind="bot_posts",
    )


def sc_tf_resolved(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "This is fixed in the nightly build. Can you please verify?",
                    "@{author} This should be fixed in {lib} {ver2}. Could you please check?",
                    "I tried to reproduce this with the latest version and it works as expected.",
                    "Looks like this was resolved by upgrading. Marking as awaiting response.",
                )
            ).format_map(s),
        )
    )
    if r.random() < 0.5:
        ev.append(
            (
                None,
                "A",
                r.choice(
                    (
                        "Yes, it works now. Thanks!",
                        "Confirmed, works with the nightly.",
                        "Thanks, that works.",
                    )
                ),
            )
        )
    msg = r.choice(
        (
            "Automatically closing this out since I understand it to be resolved, but please let me know if I'm mistaken.Thanks!",
            "Automatically closing this out since I understand it to be resolved, but please let me know if I'm mistaken. Thanks!",
            "Automatically closing this out since I understand it to be resolved, but please let me know if I'm mistaken. Thanks!",
        )
    )
    ev.append((r.uniform(7, 16), "tensorflowbutler", msg))
    close, cats, bots = "last", ["issue_management"], ["tensorflowbutler"]
    x = r.random()
    if x < 0.15:
        ev.append(
            (
                r.uniform(0.5, 20),
                "A",
                "This is not resolved, the error still occurs with {lib} {ver2}. Please reopen.".format_map(
                    s
                ),
            )
        )
        close = "before_last"
    elif x < 0.3 and _year(s.ts) >= 2019:
        cats.append("feedback")
        bots.append("tensorflow-bot")
        ev.append((0.0005, "tensorflow-bot[bot]", _survey(r, g.repo, s.g.number_hint)))
    return _sc(
        events=ev,
        labels=["stat:awaiting response"],
        close=close,
        bots=bots,
        cats=cats,
        kind="bot_posts",
    )


def sc_tf_eol(g, s):
    r = g.r
    ev = _humans(r, 1, 3, ("A", "M", "H"))
    # the end-of-life sweep ran in 2020-2021, long after these 1.x issues were filed
    target = r.uniform(_ts(2020, 7), _ts(2021, 6))
    ev.append(
        (
            max(20.0, (target - s.ts) / DAY - 40),
            "tensorflowbutler",
            "Hi There,\n\n We are checking to see if you still need help on this, as you are using an older version of tensorflow"
            f" ({r.choice(('1.x', '1.13', '1.12', '1.14'))}) which is officially considered as end of life. We recommend that you upgrade "
            f"to {r.choice(('2.4', '2.5', 'the latest 2.x'))} version and let us know if the issue still persists in newer versions. "
            "This issue will be closed automatically 7 days from now. If you still need help with this issue, "
            "please provide us with more information.",
        )
    )
    close = "last" if r.random() < 0.7 else "after"
    return _sc(
        events=ev,
        close=close,
        reason="not_planned",
        bots=["tensorflowbutler"],
        cats=["issue_management"],
        kind="bot_posts",
    )


def sc_tf_assigned_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M2",
            r.choice(
                (
                    "The butler assigned this to me but I'm not working on XLA anymore. Reassigning to @{m}.",
                    "tensorflowbutler auto-assigned this to the wrong component, relabeling as comp:lite.",
                    "Not sure why the bot labeled this as a build issue; it is a runtime bug in `{api}`.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 3, ("A", "M"))
    return _sc(
        events=ev,
        assign=True,
        close="after" if r.random() < 0.6 else None,
        bots=["tensorflowbutler"],
        cats=["issue_management"],
        kind="bot_discussed",
    )


def sc_resolved_discussed(g, s):
    r = g.r
    ev = _humans(r, 1, 3, ("A", "M", "H"))
    ev.append(
        (
            None,
            "A",
            r.choice(
                (
                    "tensorflowbutler closed my previous issue #{num} as resolved, but it still fails on {ver2}, so I'm opening this one.",
                    "Why did the butler close #{num}? I never confirmed it was resolved. Same crash in `{api}` here.",
                    "@{m} the bot closed #{num} automatically although it is not fixed; this is the same problem.",
                )
            ).format_map(s),
        )
    )
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "Thanks, let's track it here then.",
                    "Sorry about that, reopened #{num} as well.".format_map(s),
                )
            ),
        )
    )
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        events=ev,
        close="after" if r.random() < 0.5 else None,
        bots=["tensorflowbutler"],
        cats=["issue_management"],
        kind="bot_discussed",
    )


_FORM_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def _survey(r: random.Random, repo: str, number: int) -> str:
    form = "1FAIpQLS" + "".join(r.choice(_FORM_CHARS) for _ in range(48))
    url = f"https://github.com/{repo}/issues/{number}"
    base = f"https://docs.google.com/forms/d/e/{form}/viewform?entry.85265664="
    return (
        f'Are you satisfied with the resolution of your issue?\n<a href="{base}Yes&entry.2137816233={url}">Yes</a>\n'
        f'<a href="{base}No&entry.2137816233={url}">No</a>'
    )


def sc_survey(g, s, butler="google-ml-butler[bot]"):
    r = g.r
    if _year(s.ts) < 2020 or (_year(s.ts) == 2020 and r.random() < 0.3):
        butler = "tensorflow-bot[bot]" if g.lib == "TensorFlow" else "google-ml-butler[bot]"
    ev = _humans(r, 1, 4, ("A", "M", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "Closing this issue as it has been resolved in {ver2}. Thanks!",
                    "This was fixed in #{num}. Closing.",
                    "The fix is available in the nightly build. Closing, feel free to reopen if needed.",
                    "Glad it worked! Closing.",
                )
            ).format_map(s),
        )
    )
    ev.append((0.0003, butler, _survey(r, g.repo, s.g.number_hint)))
    if r.random() < 0.25:
        ev.append(
            (
                r.uniform(0.1, 5),
                "A",
                r.choice(
                    (
                        "I clicked No on the survey: the workaround works but the bug itself is not fixed.",
                        "Answered Yes in the survey, thanks for the help!",
                    )
                ),
            )
        )
    return _sc(
        events=ev,
        close=len(ev) - 2 if len(ev) and ev[-1][1] == "A" else len(ev) - 1,
        bots=[_REGISTRY_NAME[butler]],
        cats=["feedback"],
        kind="bot_posts",
    )


def sc_feedback_discussed(g, s):
    r = g.r
    ev = _humans(r, 1, 3, ("A", "M", "H"))
    ev.append(
        (
            None,
            "A",
            r.choice(
                (
                    "The google-ml-butler survey asks if I'm satisfied with the resolution, I answered No because the docs are still wrong.",
                    "FYI the satisfaction survey link posted by the ml butler on this issue gives a 404.",
                    "I picked 'No' in the resolution survey: the issue was closed without a fix.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 2, ("M", "A"))
    return _sc(
        events=ev, close="after", bots=["google-ml-butler"], cats=["feedback"], kind="bot_discussed"
    )


def sc_mlbutler_stale(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "@{author} Could you please try on the latest stable version {ver2} and let us know if the issue still persists?",
                    "@{author} Please share a colab gist reproducing the issue.",
                    "@{author} Could you please confirm if the issue is resolved with {ver2}?",
                )
            ).format_map(s),
        )
    )
    ev.append(
        (
            _StaleGap("mark", "google-ml-butler[bot]", r.uniform(0, 0.01)),
            "google-ml-butler[bot]",
            r.choice(
                (
                    "This issue has been automatically marked as stale because it has no recent activity. It will be closed if no further activity occurs. Thank you.",
                    "This issue has been automatically marked as stale because it has not had recent activity. It will be closed if no further activity occurs. Thank you.",
                )
            ),
        )
    )
    cats, bots, close = ["stale"], ["google-ml-butler"], None
    x = r.random()
    if x < 0.65:
        ev.append(
            (
                _StaleGap("close", "google-ml-butler[bot]", r.uniform(0, 0.01)),
                "google-ml-butler[bot]",
                "Closing as stale. Please reopen if you'd like to work on this further.",
            )
        )
        close = len(ev) - 1
        if r.random() < 0.75:
            ev.append((0.0004, "google-ml-butler[bot]", _survey(r, g.repo, s.g.number_hint)))
            cats.append("feedback")
    elif x < 0.85:
        ev.append(
            (
                None,
                "A",
                "Sorry for the delay, still an issue. Here is the gist: https://colab.research.google.com/gist/{author}/{hex12}".format_map(
                    s
                ),
            )
        )
    return _sc(
        events=ev,
        labels=["stat:awaiting response", "stale"],
        close=close,
        reason="not_planned",
        bots=bots,
        cats=cats,
        kind="bot_posts",
    )


def sc_cla_google(g, s):
    r = g.r
    if _year(s.ts) >= 2021 and r.random() < 0.4:
        bot = "google-cla[bot]"
        first = (
            "Thanks for your pull request! It looks like this may be your first contribution to a Google open source project. "
            "Before we can look at your pull request, you'll need to sign a Contributor License Agreement (CLA).\n\n"
            f"View this [failed invocation](https://github.com/{g.repo}/pull/{s.g.number_hint}/checks?check_run_id={r.randint(10**9, 4 * 10**9)}) "
            "of the CLA check for more information.\n\nFor the most up to date status, view the checks section at the bottom of the pull request."
        )
        ev = [(r.uniform(0.0005, 0.01), bot, first)]
        ev += _humans(r, 0, 2, ("A", "M"))
        ev.append((None, "A", "I signed the CLA, the check is green now."))
        return _sc(
            is_pr=True,
            events=ev,
            labels=["cla: yes"],
            close="after",
            merged=r.random() < 0.6,
            bots=["google-cla"],
            cats=["license"],
            kind="bot_posts",
        )
    bot = "googlebot"
    if r.random() < 0.7:
        first = (
            "Thanks for your pull request. It looks like this may be your first contribution to a Google open source project "
            "(if not, look below for help). Before we can look at your pull request, you'll need to sign a Contributor License Agreement (CLA).\n\n"
            ":memo: **Please visit <https://cla.developers.google.com/> to sign.**\n\n"
            "Once you've signed (or fixed any issues), please reply here with `@googlebot I signed it!` and we can verify it.\n\n----\n\n"
            "#### What to do if you already signed the CLA\n\n##### Individual signers\n\n"
            "*   It's possible we don't have your GitHub username or you're using a different email address on your commit. "
            "Check [your existing CLA data](https://cla.developers.google.com/clas) and verify that your "
            "[email is set on your git commits](https://help.github.com/articles/setting-your-email-in-git/).\n\n<!-- need_sender_cla -->"
        )
        reply = r.choice(
            (
                "@googlebot I signed it!",
                "@googlebot I signed it!",
                "@googlebot I signed it.",
                "I signed it! @googlebot",
            )
        )
    else:
        first = (
            "We found a Contributor License Agreement for you (the sender of this pull request), but were unable to find agreements "
            "for all the commit author(s) or Co-authors. If you authored these, maybe you used a different email address in the git commits "
            "than was used to sign the CLA ([login here](https://cla.developers.google.com/) to double check)? If these were authored by "
            "someone else, then they will need to sign a CLA as well, and confirm that they're okay with these being contributed to Google.\n"
            "In order to pass this check, please resolve this problem and then comment `@googlebot I fixed it.`. If the bot doesn't comment, "
            "it means it doesn't think anything has changed.\n\n<!-- need_author_cla -->"
        )
        reply = r.choice(
            (
                "@googlebot I fixed it.",
                "@googlebot I fixed it",
                "Fixed the commit email. @googlebot I fixed it.",
            )
        )
    ev = [(r.uniform(0.0005, 0.01), bot, first)]
    if r.random() < 0.8:
        ev.append((r.uniform(0.05, 3), "A", reply))
        ev.append(
            (
                r.uniform(0.0005, 0.02),
                bot,
                r.choice(
                    (
                        "CLAs look good, thanks!\n\n<!-- ok -->",
                        "CLAs look good, thanks!\n\n<!-- ok -->",
                        "CLAs look good, thanks!",
                    )
                ),
            )
        )
    else:
        ev.append(
            (
                r.uniform(1, 9),
                "A",
                f"I already signed the CLA with my work email, why does googlebot keep saying cla: no? cc @{s['m']}",
            )
        )
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        labels=["cla: yes"],
        close="after" if r.random() < 0.8 else None,
        merged=r.random() < 0.6,
        bots=["googlebot"],
        cats=["license"],
        kind="bot_posts",
    )


def sc_tf_jenkins(g, s):
    r = g.r
    ev = [
        (r.uniform(0.001, 0.05), "tensorflow-jenkins", "Can one of the admins verify this patch?")
    ]
    ev += _humans(r, 0, 2, ("M", "A"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "Jenkins, test this please.",
                    "Jenkins, test this please",
                    "@tensorflow-jenkins test this please",
                )
            ),
        )
    )
    if r.random() < 0.5:
        ev.append(
            (
                None,
                "M2",
                r.choice(
                    (
                        "The Jenkins build failure in //tensorflow/python/kernel_tests:{comp}_test looks unrelated.",
                        "Jenkins, test this please. (flaky GPU test)",
                    )
                ).format_map(s),
            )
        )
    ev += _humans(r, 0, 2, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.6,
        bots=["tensorflow-jenkins", "jenkins"],
        cats=["continuous_integration"],
        kind="bot_posts",
    )


def sc_kokoro(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("M", "A"))
    ev.append(
        (
            None,
            r.choice(("A", "M")),
            r.choice(
                (
                    "The Kokoro Windows Bazel build fails with `{err_short}` in //tensorflow/python:{comp}_test, seems unrelated to this PR.",
                    "Kokoro macOS build is red but the log shows a timeout in an unrelated test. Can someone re-run it?",
                    "Kokoro GPU presubmit failed: out of memory in the {comp} tests. Is that a known flake?",
                )
            ).format_map(s),
        )
    )
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "Yes, that's a known flake; I re-added kokoro:force-run.",
                    "Re-running Kokoro.",
                    "The Kokoro failure is real, please check the log at the bottom of the target output.",
                )
            ),
        )
    )
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        is_pr=True,
        events=ev,
        labels=["kokoro:force-run", "ready to pull"],
        close="after",
        merged=r.random() < 0.7,
        bots=["kokoro"],
        cats=["continuous_integration"],
        kind="service_discussed",
    )


def sc_copybara(g, s):
    r = g.r
    rev = r.randint(180_000_000, 410_000_000)
    sha = _sha(r, r.choice((7, 10, 40)))
    is_pr = r.random() < 0.6
    ev = _humans(r, 0, 2, ("A", "M"))
    if is_pr:
        ev.append(
            (
                None,
                "M",
                r.choice(
                    (
                        f"This PR has been merged internally and Copybara will sync it to GitHub shortly (PiperOrigin-RevId: {rev}).",
                        f"Merged internally as PiperOrigin-RevId: {rev}; the copybara export will close this PR.",
                        "Copybara import failed because of a merge conflict, could you rebase?",
                    )
                ),
            )
        )
    else:
        ev.append(
            (
                None,
                "M",
                r.choice(
                    (
                        f"Fixed in {sha} (PiperOrigin-RevId: {rev}). It will be in the next nightly.",
                        f"This was fixed by commit {sha}, mirrored from the internal repository by Copybara.",
                        f"The fix landed as {sha}. PiperOrigin-RevId: {rev}",
                    )
                ),
            )
        )
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        is_pr=is_pr,
        events=ev,
        close="after",
        merged=False,
        bots=["copybara"],
        cats=["commit_mapping"],
        kind="service_discussed",
    )


def sc_keras_stale(g, s):
    r = g.r
    is_pr = r.random() < 0.2
    ev = _humans(r, 0, 4, ("A", "H", "M"))
    noun = "pull request" if is_pr and r.random() < 0.5 else "issue"
    ev.append(
        (
            _StaleGap("mark", "stale[bot]", r.uniform(0, 0.01)),
            "stale[bot]",
            r.choice(
                (
                    f"This {noun} has been automatically marked as stale because it has not had recent activity. It will be closed after 30 days if no further activity occurs, but feel free to re-open a closed issue if needed.",
                    f"This {noun} has been automatically marked as stale because it has not had recent activity. It will be closed after 30 days if no further activity occurs, but feel free to re-open a closed issue if needed.",
                    f"This {noun} has been automatically marked as stale because it has not had recent activity. It will be closed if no further activity occurs. Thank you for your contributions.",
                )
            ),
        )
    )
    x, close = r.random(), None
    if x < 0.5:
        close = "last_plus"  # closed by the bot 30 days later without a comment
    elif x < 0.7:
        ev.append(
            (
                _StaleGap("close", "stale[bot]", r.uniform(0, 0.01)),
                "stale[bot]",
                "This issue has been automatically closed because it has not had recent activity. Thank you for your contributions.",
            )
        )
        close = "last"
    elif x < 0.9:
        ev.append(
            (
                r.uniform(1, 13),
                "A",
                r.choice(
                    (
                        "Still an issue with Keras {ver2}, please don't close.",
                        "This is still relevant.",
                    )
                ).format_map(s),
            )
        )
    return _sc(
        is_pr=is_pr,
        events=ev,
        labels=["stale"],
        close=close,
        reason="not_planned",
        bots=["stale"],
        cats=["stale"],
        kind="bot_posts",
    )


def sc_stale_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            r.choice(("A", "H")),
            r.choice(
                (
                    "The stale bot closed my issue #{num} although it's still broken with {lib} {ver}. Opening a new one.",
                    "This was closed by the stale bot but the problem is still there in {ver2}.",
                    "Please don't let the stale bot close this, it is still reproducible.",
                    "Could the maintainers turn off the stale bot for confirmed bugs? Issues like this get closed for inactivity.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 3, ("M", "A", "H"))
    return _sc(
        events=ev,
        close="after" if r.random() < 0.4 else None,
        bots=["stale"],
        cats=["stale"],
        kind="bot_discussed",
    )


def sc_tf_stale_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "A",
            r.choice(
                (
                    "The butler closed #{num} for lack of activity but it's still reproducible on {ver2}, so here is a new issue.",
                    "tensorflowbutler keeps nagging the assignee every two weeks but nobody responds.",
                    "Commenting so that the bot doesn't close this as stale: still happening.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 2, ("M", "A"))
    return _sc(
        events=ev,
        close="after" if r.random() < 0.4 else None,
        bots=["tensorflowbutler"],
        cats=["stale"],
        kind="bot_discussed",
    )


def sc_template_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "M"))
    ev.append(
        (
            None,
            "A",
            r.choice(
                (
                    "tensorflowbutler keeps asking for the Bazel version although I installed from pip. N/A then.",
                    "The butler asked me to fill in the issue template; all the fields are there now.",
                    "Filled out the template fields the bot asked for: TensorFlow version {ver}, {os}, Python {py}.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        events=ev,
        close="after" if r.random() < 0.6 else None,
        bots=["tensorflowbutler"],
        cats=["onboarding"],
        kind="bot_discussed",
    )


def sc_mention(g, s):
    r = g.r
    revs = []
    while len(revs) < 3:
        m = g.maint_login()
        if m not in revs and m != s["author"]:
            revs.append(m)
    lead = r.choice(
        (
            "By analyzing the history of the files in this pull request",
            "By analyzing the blame information on this pull request",
        )
    )
    ev = [
        (
            r.uniform(0.0005, 0.01),
            "mention-bot",
            f"@{s['author']}, thanks for your PR! {lead}, we identified @{revs[0]}, @{revs[1]} and @{revs[2]} to be potential reviewers.",
        )
    ]
    ev += _humans(r, 0, 3, ("M", "A"))
    if r.random() < 0.25:
        ev.append(
            (
                None,
                "M",
                f"mention-bot pinged me but I haven't touched this code in a year. @{revs[1]} can you review?",
            )
        )
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.5,
        bots=["mention-bot"],
        cats=["mention"],
        kind="bot_posts",
    )


def sc_mention_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "M"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "mention-bot suggested me as a reviewer but I'm not familiar with `{file}`. @{m2} could you take it?",
                    "Ignore the mention bot, @{m2} is the right reviewer for this.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.5,
        bots=["mention-bot"],
        cats=["mention"],
        kind="bot_discussed",
    )


def sc_coveralls(g, s):
    r = g.r
    bid = r.randint(10_000_000, 20_000_000)
    delta = r.choice(
        (
            "increased (+0.02%) to",
            "increased (+0.1%) to",
            "decreased (-0.05%) to",
            "decreased (-1.2%) to",
            "remained the same at",
        )
    )
    branch = r.choice(("master", "fix-lstm-mask", "patch-1", "docs", "batchnorm-fix"))
    ev = [
        (
            r.uniform(0.01, 0.1),
            "coveralls",
            f"\n[![Coverage Status](https://coveralls.io/builds/{bid}/badge)](https://coveralls.io/builds/{bid})\n\n"
            f"Coverage {delta} {r.uniform(70, 92):.3f}% when pulling **{_sha(r)} on {s['author']}:{branch}** into **{_sha(r)} on keras-team:master**.",
        )
    ]
    if r.random() < 0.3:
        ev.append(
            (
                None,
                "M",
                "Coverage decreased because the new branch is only exercised with the Theano backend. Please add a test.",
            )
        )
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.6,
        bots=["coveralls"],
        cats=["code_coverage"],
        kind="bot_posts",
    )


def sc_codecov(g, s):
    r = g.r
    n = s.g.number_hint
    delta = r.choice(("increase", "decrease", "not change"))
    amt = f"{r.uniform(0.01, 2.5):.2f}%"
    body = (
        f"# [Codecov](https://codecov.io/gh/{g.repo}/pull/{n}?src=pr&el=h1) Report\n"
        f"> Merging [#{n}](https://codecov.io/gh/{g.repo}/pull/{n}?src=pr&el=desc) into [master](https://codecov.io/gh/{g.repo}/commit/{_sha(r)}?el=desc) "
        f"will **{delta}** coverage by `{amt}`.\n> The diff coverage is `{r.uniform(40, 100):.2f}%`.\n\n"
        f"```diff\n@@            Coverage Diff             @@\n##           master   #{n}      +/-   ##\n"
        f"==========================================\n  Coverage   {r.uniform(60, 80):.2f}%   {r.uniform(60, 80):.2f}%   \n"
        f"==========================================\n  Files        {r.randint(1500, 2500)}     {r.randint(1500, 2500)}\n```\n\n"
        f"| [Impacted Files](https://codecov.io/gh/{g.repo}/pull/{n}?src=pr&el=tree) | Coverage Δ | |\n|---|---|---|\n"
        f"| [{s['file']}](https://codecov.io/gh/{g.repo}/pull/{n}/diff) | `{r.uniform(50, 99):.2f}% <100.00%> (+0.12%)` | :arrow_up: |\n\n"
        f"------\n\n[Continue to review full report at Codecov](https://codecov.io/gh/{g.repo}/pull/{n}?src=pr&el=continue)."
    )
    if r.random() < 0.7:
        ev = [(r.uniform(0.02, 0.2), "codecov[bot]", body)]
        if r.random() < 0.3:
            ev.append(
                (
                    None,
                    "A",
                    "The codecov report looks wrong: this PR only touches docs but it says coverage drops.",
                )
            )
        kind, bots = "bot_posts", ["codecov"]
    else:
        ev = _humans(r, 0, 2, ("M", "A"))
        ev.append(
            (
                None,
                r.choice(("A", "M")),
                r.choice(
                    (
                        "The codecov report looks wrong: coverage of `{file}` dropped 20% but I only changed a docstring.",
                        "Codecov says the new code is not covered because the CUDA tests don't upload coverage.",
                        "Can we ignore the Codecov diff coverage here? The test only runs on GPU machines.",
                    )
                ).format_map(s),
            )
        )
        kind, bots = "service_discussed", ["codecov"]
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.6,
        bots=bots,
        cats=["code_coverage"],
        kind=kind,
    )


def sc_travis(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("M", "A"))
    ev.append(
        (
            None,
            r.choice(("A", "M")),
            r.choice(
                (
                    "Travis CI fails on the Theano backend with a timeout, unrelated to this change.",
                    "The Travis build failed only for the Python 2.7 job: `{err_short}`. Restarting it.",
                    "Travis-CI is green now after the rebase.",
                    "Tests pass locally but the Travis CI job with CNTK keeps failing.",
                )
            ).format_map(s),
        )
    )
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "Restarted the Travis job, it's green now.",
                    "Known flaky test on Travis, ignore it.",
                    "Please look at the Travis log, the failure is in your new test.",
                )
            ),
        )
    )
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.6,
        bots=["travis-ci"],
        cats=["continuous_integration"],
        kind="service_discussed",
    )


def sc_fb_import(g, s):
    r = g.r
    m = s["m"]
    d = r.randint(10_000_000, 30_000_000)
    sha = _sha(r, r.choice((7, 7, 10)))
    cats, bots = ["commit_mapping"], ["facebook-github-bot"]
    ev = []
    if _year(s.ts) >= 2020 and r.random() < 0.4:
        ev.append((r.uniform(0.01, 0.2), "facebook-github-bot", _drci(r)))
        cats.append("continuous_integration")
        bots.append("dr-ci")
    ev += _humans(r, 0, 3, ("M", "A"))
    ev.append(
        (
            None,
            "facebook-github-bot",
            r.choice(
                (
                    f"@{m} has imported this pull request. If you are a Facebook employee, you can view this diff [on Phabricator](https://our.internmc.facebook.com/intern/diff/D{d}/).",
                    f"@{m} has imported this pull request. If you are a Facebook employee, you can view this diff on Phabricator.",
                )
            ),
        )
    )
    ev.append(
        (
            r.uniform(0.2, 5),
            "facebook-github-bot",
            r.choice(
                (
                    f"@{m} merged this pull request in {g.repo}@{sha}.",
                    f"@{m} merged this pull request in {sha}.",
                    f"@{m} merged this pull request in [{sha}](https://github.com/{g.repo}/commit/{_sha(r)}).",
                )
            ),
        )
    )
    return _sc(
        is_pr=True,
        events=ev,
        close="last",
        merged=True,
        labels=["Merged", "open source"],
        bots=bots,
        cats=cats,
        kind="bot_posts",
    )


def sc_fb_exported(g, s):
    r = g.r
    d = r.randint(10_000_000, 30_000_000)
    ev = [
        (
            r.uniform(0.001, 0.05),
            "facebook-github-bot",
            f"This pull request was **exported** from Phabricator. Differential Revision: [D{d}](https://our.internmc.facebook.com/intern/diff/D{d})",
        )
    ]
    ev += _humans(r, 0, 2, ("M", "M2"))
    ev.append(
        (
            r.uniform(0.5, 6),
            "facebook-github-bot",
            f"This pull request has been merged in {_sha(r, 10)}.",
        )
    )
    return _sc(
        is_pr=True,
        events=ev,
        close="last",
        merged=True,
        labels=["Merged"],
        bots=["facebook-github-bot"],
        cats=["commit_mapping"],
        kind="bot_posts",
    )


def _drci(r: random.Random) -> str:
    sha = _sha(r, 10)
    if r.random() < 0.5:
        mid = ":green_heart: :green_heart: **Looks good so far! There are no failures yet.** :green_heart: :green_heart:"
    else:
        k = r.randint(1, 4)
        job = r.choice(
            (
                "pytorch_linux_xenial_py3_clang5_asan_test2",
                "pytorch_windows_vs2019_py36_cuda10.1_test1",
                "pytorch_linux_xenial_cuda10_2_cudnn7_py3_gcc7_test",
                "pytorch_macos_10_13_py3_test",
            )
        )
        mid = (
            f"* **{k}/{k + r.randint(0, 2)}** failures possibly\\* introduced in this PR\n    * **{k}/{k}** non-scanned failure(s)\n\n"
            f"### :detective: {k} new failure recognized by patterns\nThe following CI failures do not appear to be due to upstream breakages:\n\n"
            f"* [{job}](https://app.circleci.com/pipelines/github/pytorch/pytorch/{r.randint(200000, 400000)}/workflows) (1/{k})"
        )
    head = r.choice(
        (
            "## :pill: CI failures summary and remediations",
            "## :pill: Build failures summary and remediations",
            "## 💊 CI failures summary and remediations",
        )
    )
    return (
        f"{head}\n\nAs of commit {sha} (more details on the [Dr. CI page](https://dr.pytorch.org/~pytorch/pytorch/pr)):\n\n---\n{mid}\n\n---\n"
        '<details><summary>This comment was automatically generated by <a href="https://code.intern.facebook.com/ci/dr-ci-info/">Dr. CI</a> '
        '(expand for details).</summary>Follow <a href="https://code.intern.facebook.com/ci/settings/">this link to opt-out</a> '
        "of these comments for your Pull Requests.</details>"
    )


def sc_drci(g, s):
    r = g.r
    ev = [(r.uniform(0.01, 0.2), "facebook-github-bot", _drci(r))]
    ev += _humans(r, 0, 3, ("M", "A"))
    if r.random() < 0.3:
        ev.append((None, "A", "Dr. CI says the remaining failure is flaky, is this good to merge?"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after" if r.random() < 0.7 else None,
        merged=r.random() < 0.5,
        bots=["facebook-github-bot", "dr-ci"],
        cats=["continuous_integration"],
        kind="bot_posts",
    )


def sc_retest(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("M", "A"))
    for _ in range(r.choice((1, 1, 2, 3))):
        ev.append(
            (
                None,
                r.choice(("A", "A", "M")),
                r.choice(
                    (
                        "@pytorchbot retest this please",
                        "@pytorchbot retest this please",
                        "The failure in `pr/caffe2-py2-cuda9.0-cudnn7-ubuntu16.04-test` looks unrelated. @pytorchbot retest this please",
                        "@pytorchbot retest this please\n\n```\n{trace}\n```",
                        "@pytorchbot rebase this please",
                    )
                ).format_map(s),
            )
        )
    ev += _humans(r, 0, 2, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after" if r.random() < 0.7 else None,
        merged=r.random() < 0.5,
        bots=["pytorchbot"],
        cats=["continuous_integration"],
        kind="bot_invoked",
    )


def sc_merge_cmd(g, s):
    r = g.r
    ev = _humans(r, 0, 3, ("M", "A"))
    if _year(s.ts) >= 2021 and r.random() < 0.6:
        ev.append(
            (
                None,
                "M",
                r.choice(("@pytorchbot merge", "@pytorchbot merge -g", "@pytorchbot merge")),
            )
        )
        ev.append(
            (
                r.uniform(0.0005, 0.005),
                "pytorchmergebot",
                r.choice(
                    (
                        "### Merge started\nYour change will be merged once all checks pass (ETA 0-4 Hours).",
                        "@pytorchbot successfully started a merge job. Check the current status [here](https://github.com/pytorch/pytorch/actions/runs/{n}).".replace(
                            "{n}", str(r.randint(10**9, 2 * 10**9))
                        ),
                    )
                ),
            )
        )
        if r.random() < 0.3:
            ev.append(
                (
                    r.uniform(0.05, 0.3),
                    "pytorchmergebot",
                    "## Merge failed\n**Reason**: 1 mandatory check(s) failed. The first few are:\n- pull / linux-bionic-py3.7-clang9 / test (default, 1, 2)",
                )
            )
            ev.append((None, "A", "@pytorchbot merge"))
        return _sc(
            is_pr=True,
            events=ev,
            close="after",
            merged=True,
            bots=["pytorchbot", "pytorchmergebot"],
            cats=["continuous_integration"],
            kind="bot_posts",
        )
    ev.append((None, "M", "@pytorchbot merge this please"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=True,
        labels=["merge-this-please"],
        bots=["pytorchbot"],
        cats=["continuous_integration"],
        kind="bot_invoked",
    )


def sc_ciflow(g, s):
    r = g.r
    sha = _sha(r)
    body = (
        "## CI Flow Status\n\n### :atom_symbol: CI Flow\nRuleset - Version: `v1`\n"
        f"Ruleset - File: https://github.com/{s['author']}/pytorch/blob/{sha}/.github/generated-ciflow-ruleset.json\n"
        "PR ciflow labels: `ciflow/default`\n\n| Workflows | Labels (bold enabled) | Status |\n| --- | --- | --- |\n"
        "| **Triggered Workflows** | | |\n| linux-bionic-py3.6-clang9 | **ciflow/default**, ciflow/linux | :white_check_mark: triggered |\n"
        "| win-vs2019-cuda11.3-py3 | **ciflow/default**, ciflow/cuda, ciflow/win | :white_check_mark: triggered |\n\n"
        "You can add a comment to the PR and tag @pytorchbot with the following commands:\n"
        '```sh\n# ciflow rerun, "ciflow/default" will always be added automatically\n@pytorchbot ciflow rerun\n```'
    )
    ev = [(r.uniform(0.001, 0.02), "pytorch-probot[bot]", body)]
    ev += _humans(r, 0, 3, ("M", "A"))
    if r.random() < 0.3:
        ev.append((None, "A", "@pytorchbot ciflow rerun -l ciflow/cuda"))
    return _sc(
        is_pr=True,
        events=ev,
        labels=["ciflow/default"],
        close="after" if r.random() < 0.6 else None,
        merged=r.random() < 0.5,
        bots=["pytorch-probot"],
        cats=["continuous_integration"],
        kind="bot_posts",
    )


def sc_circleci(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("M", "A"))
    ev.append(
        (
            None,
            r.choice(("A", "M")),
            r.choice(
                (
                    "CircleCI job pytorch_linux_xenial_cuda10_2_cudnn7_py3_gcc7_test failed with a segfault in test_nn, seems flaky.",
                    "The CircleCI Windows build fails with `{err_short}`; the same job is red on master.",
                    "All CircleCI jobs are green except the ROCm one, which is broken upstream.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        close="after",
        merged=r.random() < 0.5,
        bots=["circleci"],
        cats=["continuous_integration"],
        kind="service_discussed",
    )


def sc_fb_cla(g, s):
    r = g.r
    a = s["author"]
    if _year(s.ts) >= 2020:
        first = (
            f"Hi @{a}!\n\nThank you for your pull request and **welcome to our community**.\n\n# Action Required\n\n"
            "In order to merge **any pull request** (code, docs, etc.), we **require** contributors to sign our **Contributor License Agreement**, "
            "and we don't seem to have one on file for you.\n\n# Process\n\nIn order for us to review and merge your suggested changes, please sign at "
            "<https://code.facebook.com/cla>. **If you are contributing on behalf of someone else (eg your employer)**, the individual CLA may not be "
            "sufficient and your employer may need to sign the corporate CLA.\n\nOnce the CLA is signed, our tooling will perform checks and validations. "
            "Afterwards, the **pull request will be tagged** with `CLA signed`. The tagging process may take up to 1 hour after signing. "
            "Please give it that time before contacting us about it.\n\nIf you have received this in error or have any questions, please contact us at "
            f"[cla@fb.com](mailto:cla@fb.com?subject=CLA%20for%20pytorch%2Fpytorch%20%23{s.g.number_hint}). Thanks!"
        )
    else:
        first = (
            "Thank you for your pull request and welcome to our community. We require contributors to sign our Contributor License Agreement, "
            "and we don't seem to have you on file. In order for us to review and merge your code, please sign up at https://code.facebook.com/cla. "
            "If you are contributing on behalf of someone else (eg your employer), the individual CLA may not be sufficient and your employer "
            "may need the corporate CLA signed.\n\nIf you have received this in error or have any questions, please contact us at cla@fb.com. Thanks!"
        )
    ev = [(r.uniform(0.001, 0.05), "facebook-github-bot", first)]
    if r.random() < 0.75:
        ev.append(
            (
                r.uniform(0.1, 4),
                "facebook-github-bot",
                "Thank you for signing our Contributor License Agreement. We can now accept your code for this (and any other) Facebook open source project. Thanks!",
            )
        )
    ev += _humans(r, 0, 3, ("M", "A"))
    return _sc(
        is_pr=True,
        events=ev,
        labels=["cla signed"],
        close="after" if r.random() < 0.7 else None,
        merged=r.random() < 0.4,
        bots=["facebook-github-bot"],
        cats=["license"],
        kind="bot_posts",
    )


def sc_pt_label(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    '@pytorchbot label "module: nn" "triaged"',
                    '@pytorchbot label "module: cuda"',
                    '@pytorchbot label "topic: bug fixes"',
                )
            ),
        )
    )
    ev += _humans(r, 0, 3, ("A", "M"))
    return _sc(
        events=ev,
        labels=["triaged"],
        close="after" if r.random() < 0.5 else None,
        bots=["pytorchbot"],
        cats=["issue_management"],
        kind="bot_invoked",
    )


def sc_pt_triage_discussed(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "H"))
    ev.append(
        (
            None,
            "M",
            r.choice(
                (
                    "The triage bot cc'd the distributed folks because of the label, but this is a dataloader problem. Relabeling.",
                    "It seems the bot removed the `triaged` label when the issue was edited; adding it back.",
                    "The bot auto-labeled this as module: onnx, which is wrong; this is a JIT issue.",
                )
            ).format_map(s),
        )
    )
    ev += _humans(r, 0, 3, ("A", "M"))
    return _sc(
        events=ev,
        labels=["triaged"],
        close="after" if r.random() < 0.5 else None,
        bots=["pytorch-probot"],
        cats=["issue_management"],
        kind="bot_discussed",
    )


def sc_gha_stale(g, s):
    r = g.r
    ev = _humans(r, 1, 3, ("M", "A"))
    ev.append(
        (
            _StaleGap("mark", "github-actions[bot]", r.uniform(0, 0.01)),
            "github-actions[bot]",
            "Looks like this PR hasn't been updated in a while so we're going to go ahead and mark this as `Stale`. <br>"
            "Feel free to remove the `Stale` label if you feel this was a mistake. <br>"
            "If you are unable to remove the `Stale` label please contact a maintainer in order to do so. <br>"
            "`Stale` pull requests will automatically be closed 30 days after being marked `Stale` <br>",
        )
    )
    close = "last_plus" if r.random() < 0.6 else None
    return _sc(
        is_pr=True,
        events=ev,
        labels=["Stale"],
        close=close,
        reason="not_planned",
        bots=["github-actions"],
        cats=["stale"],
        kind="bot_posts",
    )


# ------------------------------------------------------------------------- negatives


def neg_chatbot(g, s):
    r = g.r
    title = r.choice(
        (
            "Seq2seq chatbot always returns the same answer",
            "Transformer chatbot: loss becomes NaN after a few epochs",
            "How to serve my chatbot model with low latency?",
            "Chatbot trained on Cornell movie dialogs gives gibberish",
            "Telegram bot freezes when calling model.predict",
        )
    )
    body = (
        f"I'm building a chatbot with {s['lib']} {s['ver']}. "
        + r.choice(
            (
                'Whatever I type, the bot replies "i don\'t know". ',
                "The bot answers fine for short inputs but repeats the same word for long ones. ",
                "My bot needs about 2 seconds per reply, which is too slow for a chat. ",
            )
        )
        + "The encoder is a 2-layer LSTM and the decoder uses attention.\n\n```python\n"
        + s["code"]
        + "\n```"
    )
    ev = [
        (
            None,
            "H",
            r.choice(
                (
                    "For a chatbot you should use beam search instead of greedy decoding.",
                    "Your bot repeats itself because the decoder never sees its own predictions during training (teacher forcing).",
                    "This sounds like a modelling question, better asked on Stack Overflow.",
                )
            ),
        )
    ]
    ev += _humans(r, 0, 3, ("A", "M", "H"))
    return _sc(
        title=title,
        body=body,
        events=ev,
        close="after",
        labels=[_TYPE_LABELS[g.lib]["question"]],
        bots=[],
        cats=[],
        kind="negative_chatbot",
    )


def neg_app(g, s):
    r = g.r
    title = r.choice(
        (
            "DQN agent for my game bot does not learn",
            "LSTM trading bot predicts a constant price",
            "Discord bot crashes when loading a model in a background thread",
            "Poker bot: policy gradient diverges",
        )
    )
    body = (
        r.choice(
            (
                "I wrote a bot that plays a simple platformer game. ",
                "My trading bot uses an LSTM on 1-minute candles. ",
                "I run inference inside a Discord bot (asyncio). ",
            )
        )
        + f"With {s['lib']} {s['ver']} on {s['os']} "
        + r.choice(
            (
                "the reward never improves.",
                "the predictions are always the same.",
                "the process dies with `{err}`.".format_map(s),
            )
        )
        + "\n\n```python\n"
        + s["code"]
        + "\n```"
    )
    ev = [
        (
            None,
            "H",
            r.choice(
                (
                    "Normalize the inputs first; the bot sees raw prices in the thousands.",
                    "Run the model in a separate process, not inside the bot's event loop.",
                    "Your epsilon decays too fast, the bot stops exploring after a few episodes.",
                )
            ),
        )
    ]
    ev += _humans(r, 0, 3, ("A", "M", "H"))
    return _sc(
        title=title, body=body, events=ev, close="after", bots=[], cats=[], kind="negative_app"
    )


def neg_robot(g, s):
    r = g.r
    title = r.choice(
        (
            "Training a grasping policy for a robot arm runs out of GPU memory",
            "Exporting a model for a ROS robot fails",
            "Robotics: sim-to-real transfer with domain randomization is slow",
            "Deploying on the robot's Jetson Nano: illegal instruction",
        )
    )
    body = (
        f"We control a 7-DoF robot arm with a policy network ({s['lib']} {s['ver']}). "
        + r.choice(
            (
                "Inference on the robot's onboard computer takes 300 ms.",
                "The robotic simulator produces images at 60 Hz and the input pipeline can't keep up.",
                "Training crashes with `{err}`.".format_map(s),
            )
        )
        + "\n\n```\n"
        + s["trace"]
        + "\n```"
    )
    ev = [
        (
            None,
            "H",
            r.choice(
                (
                    "For robotics workloads you probably want TensorRT on the Jetson.",
                    "Does the robot run an ARM build? Then the wheel is the problem.",
                    "Try a smaller batch; robot policies rarely need 256.",
                )
            ),
        )
    ]
    ev += _humans(r, 0, 3, ("A", "M", "H"))
    return _sc(
        title=title, body=body, events=ev, close="after", bots=[], cats=[], kind="negative_robot"
    )


def neg_code(g, s):
    r = g.r
    code = r.choice(
        (
            "from agents import Agent\n\nbot = Agent(env, lr=1e-3)\nfor episode in range(1000):\n    bot.train_step()\n",
            "class ChatBot(Model):\n    def call(self, x):\n        return self.decoder(self.encoder(x))\n\nbot = ChatBot()\nbot.compile('adam')",
            "INFO:bot.trainer:epoch 3 step 1200 loss=0.4211\nINFO:bot.trainer:epoch 3 step 1300 loss=nan\nERROR:bot.trainer:stopping",
            "self.bot_layer = Dense(64)\nself.top_layer = Dense(10)\nout = self.top_layer(self.bot_layer(x))",
        )
    )
    body = f"{_problem(g, s)}\n\n```python\n{code}\n```\n\n```\n{s['trace']}\n```"
    return _sc(
        body=body,
        events=_humans(r, 1, 4, ("A", "M", "H")),
        close="after",
        bots=[],
        cats=[],
        kind="negative_code",
    )


def neg_login(g, s):
    r = g.r
    ev = _humans(r, 0, 2, ("A", "M"))
    ev += [(None, "N", None) for _ in range(r.randint(1, 3))]
    ev += _humans(r, 0, 2, ("A", "M"))
    return _sc(
        events=ev,
        close="after" if r.random() < 0.7 else None,
        author_negative=r.random() < 0.4,
        bots=[],
        cats=[],
        kind="negative_login",
    )


# Scenario catalogue: (function, libraries, primary category, weight, era start, era end).
# The era bounds the thread's creation date to when the bot was active in that library.
_Y = _ts
SCENARIOS = (
    (sc_tf_template, {"TensorFlow"}, "onboarding", 10, _Y(2017, 6), _Y(2019, 9)),
    (sc_template_discussed, {"TensorFlow"}, "onboarding", 2, _Y(2017, 8), _Y(2020, 3)),
    (sc_tf_nag, {"TensorFlow"}, "stale", 6, _Y(2017, 10), _Y(2020, 1)),
    (sc_tf_awaiting, {"TensorFlow"}, "stale", 5, _Y(2017, 10), _Y(2020, 3)),
    (sc_mlbutler_stale, {"TensorFlow"}, "stale", 3, _Y(2020, 6), _Y(2021, 8)),
    (sc_mlbutler_stale, {"Keras"}, "stale", 1.5, _Y(2020, 6), _Y(2021, 8)),
    (sc_keras_stale, {"Keras"}, "stale", 6.5, _Y(2017, 5), _Y(2020, 1)),
    (sc_stale_discussed, {"Keras"}, "stale", 1.2, _Y(2017, 8), _Y(2020, 6)),
    (sc_tf_stale_discussed, {"TensorFlow"}, "stale", 1, _Y(2017, 10), _Y(2020, 3)),
    (sc_gha_stale, {"PyTorch"}, "stale", 1.2, _Y(2021, 1), _Y(2021, 7)),
    (sc_tf_resolved, {"TensorFlow"}, "issue_management", 10, _Y(2017, 9), _Y(2020, 1)),
    (sc_tf_eol, {"TensorFlow"}, "issue_management", 3, _Y(2016, 6), _Y(2019, 6)),
    (sc_tf_assigned_discussed, {"TensorFlow"}, "issue_management", 1.2, _Y(2017, 9), _Y(2020, 1)),
    (sc_resolved_discussed, {"TensorFlow"}, "issue_management", 1.2, _Y(2017, 9), _Y(2020, 3)),
    (sc_pt_label, {"PyTorch"}, "issue_management", 1.5, _Y(2020, 6), _Y(2021, 8)),
    (sc_pt_triage_discussed, {"PyTorch"}, "issue_management", 2.2, _Y(2019, 6), _Y(2021, 8)),
    (sc_survey, {"TensorFlow"}, "feedback", 8, _Y(2019, 6), _Y(2021, 8)),
    (sc_survey, {"Keras"}, "feedback", 2.5, _Y(2020, 6), _Y(2021, 8)),
    (sc_feedback_discussed, {"TensorFlow"}, "feedback", 1, _Y(2020, 6), _Y(2021, 8)),
    (sc_feedback_discussed, {"Keras"}, "feedback", 0.4, _Y(2020, 6), _Y(2021, 8)),
    (sc_retest, {"PyTorch"}, "continuous_integration", 3, _Y(2017, 3), _Y(2020, 1)),
    (sc_drci, {"PyTorch"}, "continuous_integration", 2.5, _Y(2019, 10), _Y(2021, 8)),
    (sc_merge_cmd, {"PyTorch"}, "continuous_integration", 1.2, _Y(2019, 6), _Y(2021, 8)),
    (sc_ciflow, {"PyTorch"}, "continuous_integration", 0.8, _Y(2021, 1), _Y(2021, 8)),
    (sc_circleci, {"PyTorch"}, "continuous_integration", 1.2, _Y(2018, 6), _Y(2021, 8)),
    (sc_tf_jenkins, {"TensorFlow"}, "continuous_integration", 1.2, _Y(2015, 12), _Y(2018, 6)),
    (sc_kokoro, {"TensorFlow"}, "continuous_integration", 1.2, _Y(2018, 6), _Y(2021, 8)),
    (sc_kokoro, {"Keras"}, "continuous_integration", 0.4, _Y(2020, 6), _Y(2021, 8)),
    (sc_travis, {"Keras"}, "continuous_integration", 1.5, _Y(2016, 1), _Y(2019, 12)),
    (sc_coveralls, {"Keras"}, "code_coverage", 3, _Y(2016, 6), _Y(2019, 1)),
    (sc_codecov, {"PyTorch"}, "code_coverage", 2, _Y(2020, 3), _Y(2021, 8)),
    (sc_fb_import, {"PyTorch"}, "commit_mapping", 3, _Y(2018, 6), _Y(2021, 8)),
    (sc_fb_exported, {"PyTorch"}, "commit_mapping", 1, _Y(2019, 1), _Y(2021, 8)),
    (sc_copybara, {"TensorFlow"}, "commit_mapping", 1.5, _Y(2018, 6), _Y(2021, 8)),
    (sc_copybara, {"Keras"}, "commit_mapping", 0.5, _Y(2020, 6), _Y(2021, 8)),
    (sc_cla_google, {"TensorFlow"}, "license", 2, _Y(2016, 3), _Y(2021, 8)),
    (sc_cla_google, {"Keras"}, "license", 0.7, _Y(2019, 6), _Y(2021, 8)),
    (sc_fb_cla, {"PyTorch"}, "license", 2.5, _Y(2017, 6), _Y(2021, 8)),
    (sc_mention, {"Keras"}, "mention", 3, _Y(2016, 2), _Y(2017, 8)),
    (sc_mention, {"PyTorch"}, "mention", 1, _Y(2016, 10), _Y(2017, 8)),
    (sc_mention_discussed, {"Keras"}, "mention", 1, _Y(2016, 3), _Y(2017, 10)),
)
NEGATIVES = (neg_chatbot, neg_app, neg_robot, neg_code, neg_login)


# =====================================================================================
# Generation
# =====================================================================================


@dataclass
class Corpus:
    """Generated repos (GitHub REST JSON items) and the ground truth per thread."""

    repos: dict[str, dict[str, list[dict]]]
    truth: list[dict]
    scale: float = 1.0
    seed: int = 2021
    stats: dict = field(default_factory=dict)


class _RepoGen:
    def __init__(self, repo: str, rng: random.Random, n_threads: int, uid_base: int):
        self.repo, self.r, self.lib = repo, rng, _library(repo)
        self.api = f"https://api.github.com/repos/{repo}"
        self.web = f"https://github.com/{repo}"
        self.number_hint = 1
        r = rng
        logins: set[str] = set()
        self._uid = uid_base

        def new_login() -> str:
            while True:
                f, last = r.choice(_FIRST), r.choice(_LAST)
                k = r.random()
                if k < 0.2:
                    s = f + last
                elif k < 0.35:
                    s = f[0] + last
                elif k < 0.5:
                    s = f"{f}-{last}"
                elif k < 0.6:
                    s = last + f[0]
                elif k < 0.72:
                    s = f"{f}{last}{r.randint(1, 99)}"
                elif k < 0.8:
                    s = f"{f}{r.randint(10, 2021)}"
                elif k < 0.9:
                    s = f[:1].upper() + f[1:] + last[:1].upper() + last[1:]
                else:
                    s = f"{f[0]}{last}{r.choice(('-dev', '-ml', 'x', '0', '-ai'))}"
                low = s.lower()
                if (
                    low not in logins
                    and not any(b in low for b in _FORBIDDEN_IN_LOGIN)
                    and len(s) <= 39
                ):
                    logins.add(low)
                    return s

        n_maint = 12 + min(16, n_threads // 100)
        self.maints = [self._mk(new_login()) for _ in range(n_maint)]
        self.maint_logins = [u["login"] for u in self.maints]
        self.users = [self._mk(new_login()) for _ in range(max(40, int(n_threads * 0.55)))]
        self.assoc = {
            u["login"]: ("CONTRIBUTOR" if r.random() < 0.25 else "NONE") for u in self.users
        }
        for u in self.maints:
            self.assoc[u["login"]] = "MEMBER" if r.random() < 0.8 else "COLLABORATOR"
        self.neg_users = [self._mk(lg) for lg in NEGATIVE_LOGINS]
        for u in self.neg_users:
            self.assoc[u["login"]] = "NONE"
        self.assoc["ghost"] = "NONE"
        self.labels = {}

    def _mk(self, login: str) -> dict:
        self._uid += self.r.randint(1, 9973)
        return _user(login, self._uid)

    def maint_login(self) -> str:
        return self.r.choice(self.maint_logins)

    def pick_user(self) -> dict:
        u = self.users
        return u[int(len(u) * (self.r.random() ** 2.2))]

    def versions(self, ts: int):
        table = _VERSIONS[self.lib]
        y = min(max(_year(ts), min(table)), max(table))
        return table[y]

    def label(self, name: str) -> dict:
        lab = self.labels.get(name)
        if lab is None:
            h = sum(map(ord, name)) * 2654435761 % (1 << 24)
            lab = self.labels[name] = {
                "id": 100_000_000 + len(self.labels) * 7919 + (h % 7000),
                "node_id": f"SYNTH_L_{h:x}",
                "url": f"{self.api}/labels/{name.replace(' ', '%20')}",
                "name": name,
                "color": f"{h:06x}",
                "default": False,
                "description": None if len(name) % 3 else f"{name} (synthetic)",
            }
        return lab


def _comment_gap(r: random.Random, first: bool) -> float:
    """Seconds between two posts of an ordinary thread."""
    x = r.random()
    if x < 0.08:
        return r.uniform(20, 240) * DAY
    if first:
        return r.expovariate(1 / (1.6 * DAY)) + 300
    return r.expovariate(1 / (2.8 * DAY)) + 120


def _human_text(g: _RepoGen, s: _Slots, maint: bool, is_pr: bool) -> str:
    r = g.r
    x = r.random()
    if x < 0.012:
        return r.choice(_FUNNY).format_map(s)
    if is_pr and r.random() < 0.85:
        pool = _PR_SENTENCES
    else:
        pool = _MAINT_SENTENCES if maint else _REPORTER_SENTENCES
    text = r.choice(pool).format_map(s)
    if x > 0.75:
        extra = r.choice(_REPORTER_SENTENCES if not maint else _MAINT_SENTENCES[:8]).format_map(s)
        if extra != text:
            text += " " + extra
    return text


def _allocate(rng: random.Random, n: int, weights: list[float]) -> list[int]:
    """Split n into integer counts proportional to weights (largest remainder, random ties)."""
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(
        range(len(weights)), key=lambda i: (exact[i] - counts[i], rng.random()), reverse=True
    )
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _plan(rng: random.Random, sizes: dict[str, int], scale: float) -> dict[str, list]:
    """Assign scenarios to repositories so that primary categories follow the paper.

    BOT_SHARE of each repository's threads are bot-related in total; their primary categories
    follow PAPER_SHARES (rare categories get a floor, issue management takes the rest), and
    within a category the scenarios are allocated in proportion to weight x repository size.
    """
    libs = {repo: _library(repo) for repo in sizes}
    total = sum(max(1, round(n * BOT_SHARE[libs[repo]])) for repo, n in sizes.items())
    quota = {
        c: max(round(share * total), round(RARE_FLOOR.get(c, 1) * min(scale, 1.0)), 1)
        for c, share in PAPER_SHARES.items()
    }
    quota["issue_management"] = max(
        1, total - sum(v for c, v in quota.items() if c != "issue_management")
    )
    mean = sum(sizes.values()) / len(sizes)
    plan: dict[str, list] = {repo: [] for repo in sizes}
    for cat in CATEGORIES:
        cands = [
            (sc, repo) for sc in SCENARIOS if sc[2] == cat for repo in sizes if libs[repo] in sc[1]
        ]
        if not cands:
            continue
        counts = _allocate(rng, quota[cat], [sc[3] * sizes[repo] / mean for sc, repo in cands])
        for (sc, repo), k in zip(cands, counts, strict=True):
            plan[repo] += [sc] * k
    for repo in plan:
        rng.shuffle(plan[repo])
    return plan


def _place(rng: random.Random, times: list[int], taken: set[int], lo_ts: int, hi_ts: int) -> int:
    n = len(times)
    lo, hi = bisect.bisect_left(times, lo_ts), bisect.bisect_right(times, hi_ts)
    if hi - lo < 1:
        lo, hi = 0, n
    for _ in range(40):
        i = rng.randrange(lo, hi)
        if i not in taken:
            taken.add(i)
            return i
    free = [i for i in range(lo, hi) if i not in taken] or [i for i in range(n) if i not in taken]
    i = rng.choice(free)
    taken.add(i)
    return i


def _big_body(r: random.Random) -> str:
    lines = [
        "Training log of the run that eventually crashes (sorry for the length, the interesting part is at the bottom):",
        "",
        "```",
    ]
    size, epoch = 0, 1
    while size < 200_000:
        for step in range(0, 1000, 50):
            line = (
                f"Epoch {epoch}/400 - step {step:4d}/1000 - loss: {r.uniform(0.1, 2.5):.4f} - accuracy: {r.uniform(0.3, 0.99):.4f}"
                f" - val_loss: {r.uniform(0.2, 3.0):.4f} - {r.randint(40, 90)}ms/step"
            )
            lines.append(line)
            size += len(line) + 1
        epoch += 1
    lines += [
        "2021-03-02 11:41:07.123456: F tensorflow/core/common_runtime/bfc_allocator.cc:459] Check failed: c->in_use() && (c->bin_num == kInvalidBinNum)",
        "Aborted (core dumped)",
        "```",
        "",
        "Both GPUs show the same behaviour.",
    ]
    return "\n".join(lines)


def _gen_repo(
    repo: str, n: int, scenarios: list, seed: int, scale: float, uid_base: int, big_body: bool
):
    rng = random.Random(f"{seed}:{repo}")
    g = _RepoGen(repo, rng, n, uid_base)
    lib = g.lib
    start = REPO_START.get(repo, _ts(2016, 1, 1))
    span = LAST_CREATED_TS - start
    times = [
        start + int(span * (((i + 0.5 + rng.uniform(-0.2, 0.2)) / n) ** 0.85)) for i in range(n)
    ]
    numbers, num = [], REPO_FIRST_NUMBER.get(repo, 1)
    for _ in range(n):
        numbers.append(num)
        num += 1 if rng.random() < 0.7 else rng.randint(2, 4)

    # assign scenarios and negatives to thread positions
    taken: set[int] = set()
    roles: dict[int, tuple] = {}
    for sc in scenarios:
        fn, _libs, _cat, _w, lo, hi = sc
        i = _place(rng, times, taken, lo, min(hi, LAST_CREATED_TS - 150 * DAY))
        roles[i] = ("bot", fn)
    n_neg = max(len(NEGATIVES) if scale >= 0.2 else 1, round(n * NEGATIVE_SHARE))
    for k in range(min(n_neg, n - len(taken))):
        i = _place(rng, times, taken, 0, LAST_CREATED_TS)
        roles[i] = ("neg", NEGATIVES[k % len(NEGATIVES)])
    big_index = None
    if big_body and len(taken) < n:
        big_index = _place(rng, times, taken, _ts(2019, 1), _ts(2021, 6))

    issues, truth, pending, plans = [], [], [], []
    r = rng
    for i in range(n):
        number, created = numbers[i], times[i]
        g.number_hint = number
        role = roles.get(i)
        author = g.pick_user()
        if r.random() < 0.004:
            author = None if r.random() < 0.5 else GHOST
        s = _slots(g, created, author["login"] if author else "ghost")
        s["m"] = g.maint_login()
        s["m2"] = g.maint_login()
        script = None
        if role is not None:
            script = role[1](g, s)
            if script.get("author_negative"):
                author = r.choice(g.neg_users)
                s["author"] = author["login"]
            if author is None or author is GHOST:
                author = g.pick_user()
                s["author"] = author["login"]
        is_pr = script["is_pr"] if script is not None else (r.random() < PR_SHARE)
        kind_key = "bug"
        if not is_pr:
            x = r.random()
            kind_key = (
                "bug"
                if x < 0.55
                else "feature"
                if x < 0.7
                else "question"
                if x < 0.85
                else "perf"
                if x < 0.93
                else "build"
                if x < 0.97
                else "docs"
            )
        title = (
            script["title"]
            if script is not None and script["title"]
            else r.choice(_PR_TITLES if is_pr else _TITLES[kind_key]).format_map(s)
        )
        if script is not None and script["body"] is not None:
            body = script["body"]
        elif i == big_index:
            body = _big_body(r)
        elif is_pr:
            body = (
                r.choice(_PR_BODIES if lib == "PyTorch" else _PR_BODIES[:-1]).format_map(s)
                if r.random() > 0.08
                else None
            )
        else:
            body = (
                _issue_body(g, s, kind_key if kind_key in ("question", "feature") else "bug")
                if r.random() > 0.01
                else None
            )
        if body is not None and r.random() < 0.004:
            body = r.choice(_FUNNY).format_map(s) + "\n\n" + body

        # events -> comments
        events = script["events"] if script is not None else None
        if events is None:
            x = r.random()
            k = int(r.expovariate(1 / 4.9)) if x > 0.04 else r.randint(15, 70)
            events = [
                (None, "M" if r.random() < 0.35 else ("A" if r.random() < 0.5 else "H"), None)
                for _ in range(k)
            ]
        stamps, t = [], created
        for j, (gap, _who, _text) in enumerate(events):
            if isinstance(gap, _StaleGap):
                gap = gap.days_after(t)  # the bot's policy at the time it acts
            t += (
                int(gap * DAY) + r.randint(30, 3000)
                if gap is not None
                else int(_comment_gap(r, j == 0))
            )
            stamps.append(t)
        limit = END_TS - 3 * 3600
        if stamps and stamps[-1] > limit:
            total = stamps[-1] - created
            f = (limit - created) / total
            stamps = [created + max(1, int((st - created) * f)) for st in stamps]
            stamps = [max(st, stamps[k - 1] + 1) if k else st for k, st in enumerate(stamps)]
        thread_comments, seen = [], set()
        for j, (_gap, who, text) in enumerate(events):
            app = None
            if who in BOT_USERS:
                user, assoc, app = BOT_USERS[who], _BOT_ACCOUNTS[who][1], BOT_APPS.get(who)
            elif who == "A":
                user = author
            elif who in ("M", "M2"):
                lg = s["m"] if who == "M" else s["m2"]
                user = g.maints[g.maint_logins.index(lg)]
            elif who == "N":
                user = r.choice(g.neg_users)
            else:
                user = g.pick_user()
                if r.random() < 0.003:
                    user = None if r.random() < 0.5 else GHOST
            if text is None:
                text = _human_text(g, s, who in ("M", "M2"), is_pr)
                if text in seen:
                    text = _human_text(g, s, who in ("M", "M2"), is_pr)
                seen.add(text)
            if who not in BOT_USERS:
                assoc = "NONE" if user is None else g.assoc.get(user["login"], "NONE")
            edited = min(stamps[j] + (r.randint(60, 20000) if r.random() < 0.07 else 0), END_TS)
            thread_comments.append((stamps[j], edited, user, assoc, text, app))
        last = stamps[-1] if stamps else created

        # state
        closed_at, state, reason, merged_at = None, "open", None, None
        close = (
            script["close"]
            if script is not None
            else (
                "after"
                if r.random() < (0.9 if created < LAST_CREATED_TS - 365 * DAY else 0.6)
                else None
            )
        )
        if close is not None and stamps:
            if close == "last":
                closed_at = stamps[-1] + r.randint(1, 20)
            elif close == "before_last" and len(stamps) > 1:
                closed_at = stamps[-2] + r.randint(1, 20)
            elif close == "last_plus":
                closed_at = stamps[-1] + _silent_close(
                    events[-1][0], stamps[-1], r.uniform(0, 0.01)
                )
            elif isinstance(close, int) and 0 <= close < len(stamps):
                closed_at = stamps[close] - r.randint(1, 30)
            else:
                closed_at = last + int(r.expovariate(1 / (0.8 * DAY))) + 60
        elif close is not None:
            closed_at = created + int(r.expovariate(1 / (6 * DAY))) + 600
        if closed_at is not None:
            closed_at = min(closed_at, END_TS)
            state = "closed"
            if is_pr:
                merged = script["merged"] if script is not None else r.random() < 0.6
                merged_at = closed_at if merged else None
            else:
                reason = (
                    script["reason"]
                    if script is not None
                    else ("completed" if r.random() < 0.85 else "not_planned")
                )
        updated = max(last, closed_at or 0, created)
        if r.random() < 0.3:
            updated += r.randint(60, 5 * DAY)
        updated = min(updated, END_TS)

        # labels and assignees
        names = []
        if not is_pr:
            if r.random() < 0.75:
                names.append(_TYPE_LABELS[lib][kind_key])
            if r.random() < 0.5:
                names.append(r.choice(_COMPS[lib]))
            if lib == "TensorFlow" and r.random() < 0.2:
                names.append("TF " + ".".join(s["ver"].split(".")[:2]))
        elif r.random() < 0.6:
            names.append(r.choice(_PR_LABELS[lib]))
        if script is not None:
            names += [x for x in script["labels"] if x not in names]
        labels = [g.label(x) for x in names]
        assignees = []
        if (script is not None and script["assign"]) or r.random() < 0.18:
            assignees = [g.maints[g.maint_logins.index(s["m"])]]

        html = f"{g.web}/{'pull' if is_pr else 'issues'}/{number}"
        issue = {
            "url": f"{g.api}/issues/{number}",
            "repository_url": g.api,
            "labels_url": f"{g.api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{g.api}/issues/{number}/comments",
            "events_url": f"{g.api}/issues/{number}/events",
            "html_url": html,
            "id": 0,
            "node_id": "",
            "number": number,
            "title": title,
            "user": author,
            "labels": labels,
            "state": state,
            "locked": bool(state == "closed" and r.random() < 0.02),
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "comments": len(thread_comments),
            "created_at": _fmt(created),
            "updated_at": _fmt(updated),
            "closed_at": _fmt(closed_at) if closed_at is not None else None,
            "author_association": "NONE"
            if author is None
            else g.assoc.get(author["login"], "NONE"),
            "active_lock_reason": None,
            "body": body,
            "reactions": _reactions(r, f"{g.api}/issues/{number}/reactions"),
            "timeline_url": f"{g.api}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": reason,
        }
        if is_pr:
            issue["draft"] = False
            issue["pull_request"] = {
                "url": f"{g.api}/pulls/{number}",
                "html_url": f"{g.web}/pull/{number}",
                "diff_url": f"{g.web}/pull/{number}.diff",
                "patch_url": f"{g.web}/pull/{number}.patch",
                "merged_at": _fmt(merged_at) if merged_at is not None else None,
            }
            if issue["author_association"] == "NONE" and r.random() < 0.3:
                issue["author_association"] = "FIRST_TIME_CONTRIBUTOR"
        issues.append(issue)
        plans.append(
            _ThreadPlan(
                issue=issue,
                script=script,
                scenario=role[1].__name__ if role is not None else None,
                created=created,
                stamps=stamps,
                posts=thread_comments,
                closed_at=closed_at,
                close=close,
                merged_at=merged_at,
                label_names=names,
                maintainer=g.maints[g.maint_logins.index(s["m"])],
            )
        )
        for c in thread_comments:
            pending.append((c[0], len(pending), number, html, c))

        if script is not None:
            bots = sorted(set(script["bots"]))
            cats = sorted(set(script["cats"]))
            truth.append(
                {
                    "repo": repo,
                    "number": number,
                    "bot_related": bool(cats),
                    "kind": script["kind"],
                    "bots": ";".join(bots),
                    "categories": ";".join(cats),
                }
            )
        else:
            truth.append(
                {
                    "repo": repo,
                    "number": number,
                    "bot_related": False,
                    "kind": "none",
                    "bots": "",
                    "categories": "",
                }
            )

    # ids increase with creation time
    iid = 20_000_000 + (uid_base % 7) * 1_000_000
    for issue in issues:
        iid += r.randint(200, 9000)
        issue["id"] = iid
        issue["node_id"] = f"SYNTH_I_{iid}"
    pending.sort()
    comments, cid = [], 150_000_000 + (uid_base % 7) * 1_000_000
    api = g.api
    for _created, _k, number, html, (ts, edited, user, assoc, text, app) in pending:
        cid += r.randint(1, 997)
        comments.append(
            {
                "url": f"{api}/issues/comments/{cid}",
                "html_url": f"{html}#issuecomment-{cid}",
                "issue_url": f"{api}/issues/{number}",
                "id": cid,
                "node_id": f"SYNTH_IC_{cid}",
                "user": user,
                "created_at": _fmt(ts),
                "updated_at": _fmt(edited),
                "author_association": assoc,
                "body": text,
                "performed_via_github_app": app,
            }
        )
    # Events and reactions come from their own random stream: the threads above stay as they
    # were before the sample had events.
    events = _repo_events(g, plans, comments, random.Random(f"{seed}:{repo}:events"))
    return issues, comments, events, truth


# ------------------------------------------------------------------------- issue events


@dataclass
class _ThreadPlan:
    """What a thread's events are derived from: its issue, its script and its laid-out times."""

    issue: dict
    script: dict | None
    scenario: str | None
    created: int
    stamps: list[int]
    posts: list[tuple]  # (created, edited, user, association, text, app) per comment
    closed_at: int | None
    close: object
    merged_at: int | None
    label_names: list[str]
    maintainer: dict


# Labels a bot applies when it takes part in the thread (else a maintainer labels).
_BOT_LABELS = {
    "cla: yes": ("google-cla[bot]", "googlebot"),
    "cla signed": ("facebook-github-bot",),
    "Merged": ("facebook-github-bot",),
    "triaged": ("pytorchbot",),
    "ciflow/default": ("pytorch-probot[bot]",),
}
REOPEN_AFTER_STALE_CLOSE = 0.35  # share of stale closes the issue's author reopens


def _login(user: dict | None) -> str | None:
    return user["login"] if user else None


def _is_bot(user: dict | None) -> bool:
    return user is not None and user["login"] in BOT_USERS


def _stale_mark(plan: _ThreadPlan) -> tuple[int, str] | None:
    """The index of the post a stale bot marks the thread with, and the bot."""
    for j, (gap, _who, _text) in enumerate((plan.script or {}).get("events") or ()):
        if isinstance(gap, _StaleGap) and gap.step == "mark":
            return j, gap.bot
    return None


def _closes(text: str | None) -> bool:
    """Whether a bot's post announces that it closes the thread (not that it will)."""
    return bool(
        text
        and re.search(r"\bclos(e|ed|ing)\b", text, re.IGNORECASE)
        and not re.search(r"will be closed", text, re.IGNORECASE)
    )


def _closer(plan: _ThreadPlan, er: random.Random) -> dict:
    """Who closed the thread: the bot whose post the close goes with, else a maintainer or,
    now and then, the issue's author."""
    posts, close = plan.posts, plan.close
    at = None
    if close == "last_plus" or close == "last":
        at = len(posts) - 1
    elif close == "before_last" and len(posts) > 1:
        at = len(posts) - 2
    elif isinstance(close, int) and not isinstance(close, bool) and 0 <= close < len(posts):
        at = close
    if at is not None and _is_bot(posts[at][2]) and (close == "last_plus" or _closes(posts[at][4])):
        return posts[at][2]
    author = plan.issue["user"]
    return author if author is not None and er.random() < 0.3 else plan.maintainer


def _thread_events(g, plan: _ThreadPlan, er: random.Random) -> list[tuple[int, int, dict]]:
    """A thread's issue events, consistent with its labels, assignees, closes and posts: label
    events for its labels, stale marks lifted by replies, closes, reopenings after bot closes,
    locks. Mutates the issue where events change it (a lifted mark drops the label, a reopening
    opens the issue again)."""
    issue, drafts = plan.issue, []
    ref = {key: issue[key] for key in ("id", "number", "url", "html_url")}

    def add(ts: int, actor: dict | None, kind: str, **extra) -> None:
        event = {
            "actor": actor,
            "event": kind,
            "commit_id": None,
            "commit_url": None,
            "issue": ref,
            "performed_via_github_app": BOT_APPS.get(_login(actor) or ""),
            **extra,
        }
        drafts.append((min(ts, END_TS), len(drafts), event))

    def label(name: str) -> dict:
        lab = g.label(name)
        return {"name": lab["name"], "color": lab["color"]}

    mark = _stale_mark(plan)
    stale_label = STALE_LABELS[mark[1]] if mark else None
    first_post = {}
    for ts, _edited, user, _assoc, text, _app in plan.posts:
        if _is_bot(user):
            first_post.setdefault(user["login"], ts)
        if text and "@pytorchbot label" in text:
            first_post.setdefault("pytorchbot", ts)
    for name in plan.label_names:
        if name == stale_label:
            continue
        actor, at = plan.maintainer, plan.created + er.randint(60, 3600)
        for login in _BOT_LABELS.get(name, ()):
            if login in first_post:
                actor, at = BOT_USERS[login], first_post[login] + er.randint(2, 40)
                break
        add(at, actor, "labeled", label=label(name))
    for assignee in issue["assignees"]:
        add(
            plan.created + er.randint(60, 7200),
            plan.maintainer,
            "assigned",
            assignee=assignee,
            assigner=plan.maintainer,
        )
    closer = _closer(plan, er) if plan.closed_at is not None else None
    if plan.closed_at is not None:
        if plan.merged_at is not None:
            add(plan.merged_at, closer, "merged", commit_id=f"{er.getrandbits(160):040x}")
        add(plan.closed_at, closer, "closed", state_reason=issue["state_reason"])
    if mark is not None:
        _stale_events(plan, mark, closer, er, add, label)
    elif closer is not None and _is_bot(closer):
        _reopen_on_request(plan, closer, er, add)
    if issue["locked"] and plan.closed_at is not None:
        add(
            plan.closed_at + er.randint(DAY, 30 * DAY),
            plan.maintainer,
            "locked",
            lock_reason="resolved",
        )
    if drafts:
        latest = max(ts for ts, _, _ in drafts)
        issue["updated_at"] = max(issue["updated_at"], _fmt(latest))
    return drafts


def _stale_events(plan, mark, closer, er, add, label) -> None:
    """A stale bot's mark, and what became of it: closed by the bot (and maybe reopened by the
    author, which lifts the mark), lifted because someone replied, or still standing."""
    j, bot_login = mark
    bot, name, issue = BOT_USERS[bot_login], STALE_LABELS[bot_login], plan.issue
    marked_at = plan.stamps[j] - er.randint(1, 20)  # the label comes with the bot's comment
    add(marked_at, bot, "labeled", label=label(name))
    closed_by_bot = closer is not None and _login(closer) == bot_login
    replies = [post[0] for post in plan.posts[j + 1 :] if not _is_bot(post[2])]
    if closed_by_bot:
        reopen_at = plan.closed_at + int(er.uniform(1, 10) * DAY)
        if er.random() < REOPEN_AFTER_STALE_CLOSE and reopen_at < END_TS - DAY:
            add(reopen_at, issue["user"] or plan.maintainer, "reopened")
            add(reopen_at + er.randint(30, 600), bot, "unlabeled", label=label(name))
            _reopen(issue, name)
    elif replies and (plan.closed_at is None or replies[0] < plan.closed_at):
        add(replies[0] + er.randint(60, 1800), bot, "unlabeled", label=label(name))
        issue["labels"] = [lab for lab in issue["labels"] if lab["name"] != name]


def _reopen_on_request(plan, closer, er, add) -> None:
    """A maintainer reopens a thread a bot closed when its author asks for it."""
    for ts, _edited, user, _assoc, text, _app in plan.posts:
        if ts > plan.closed_at and not _is_bot(user) and text and "reopen" in text.lower():
            add(ts + er.randint(3600, 2 * DAY), plan.maintainer, "reopened")
            _reopen(plan.issue, None)
            return


def _reopen(issue: dict, drop_label: str | None) -> None:
    issue["state"], issue["closed_at"], issue["state_reason"] = "open", None, "reopened"
    if drop_label:
        issue["labels"] = [lab for lab in issue["labels"] if lab["name"] != drop_label]


_BOT_REACTIONS = (("+1", 0.12), ("-1", 0.06), ("confused", 0.05), ("heart", 0.02), ("eyes", 0.02))
_HUMAN_REACTIONS = (("+1", 0.12), ("heart", 0.03), ("hooray", 0.02), ("rocket", 0.01))


def _comment_reactions(comments: list[dict], er: random.Random) -> None:
    """The reactions rollup GitHub embeds in every comment: bots' posts draw thumbs-down and
    confused faces now and then, people's mostly thumbs-up."""
    for comment in comments:
        odds = _BOT_REACTIONS if _is_bot(comment["user"]) else _HUMAN_REACTIONS
        counts = {key: er.randint(1, 3) if er.random() < p else 0 for key, p in odds}
        rollup = {key: counts.get(key, 0) for key in REACTION_KEYS}
        comment["reactions"] = {
            "url": f"{comment['url']}/reactions",
            "total_count": sum(rollup.values()),
            **rollup,
        }


REACTION_KEYS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def _repo_events(g, plans: list[_ThreadPlan], comments: list[dict], er: random.Random) -> list:
    """Every thread's events, ids ascending with time like GitHub's, newest first as the
    repository-wide list serves them; and the comments' reactions."""
    drafts = [
        (ts, plan_index, k, event)
        for plan_index, plan in enumerate(plans)
        for ts, k, event in _thread_events(g, plan, er)
    ]
    _comment_reactions(comments, er)
    drafts.sort(key=lambda draft: draft[:3])
    events, eid = [], 3_000_000_000 + (g._uid % 7) * 100_000_000
    for ts, _plan, _k, event in drafts:
        eid += er.randint(1, 97)
        events.append(
            {
                "id": eid,
                "node_id": f"SYNTH_IE_{eid}",
                "url": f"{g.api}/issues/events/{eid}",
                **event,
                "created_at": _fmt(ts),
            }
        )
    events.reverse()
    return events


def _reactions(r: random.Random, url: str) -> dict:
    up = int(r.expovariate(0.6)) if r.random() < 0.3 else 0
    heart = 1 if r.random() < 0.03 else 0
    return {
        "url": url,
        "total_count": up + heart,
        "+1": up,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": heart,
        "rocket": 0,
        "eyes": 0,
    }


def generate_corpus(scale: float = 1.0, seed: int = 2021, repos=DEFAULT_REPOS) -> Corpus:
    """Generate the synthetic corpus. Deterministic for a given (scale, seed, repos)."""
    if scale <= 0:
        raise ValueError("scale must be > 0")
    repos = tuple(repos)
    sizes = {repo: max(10, round(BASE_THREADS.get(repo, 1000) * scale)) for repo in repos}
    plan = _plan(random.Random(f"{seed}:plan"), sizes, scale)
    out, truth = {}, []
    for k, repo in enumerate(repos):
        issues, comments, events, t = _gen_repo(
            repo,
            sizes[repo],
            plan[repo],
            seed,
            scale,
            uid_base=1_000_000 + 3_000_000 * k + k,
            big_body=(
                repo == "tensorflow/tensorflow" or (k == 0 and "tensorflow/tensorflow" not in repos)
            ),
        )
        out[repo] = {"issues": issues, "comments": comments, "events": events}
        truth += t
    corpus = Corpus(repos=out, truth=truth, scale=scale, seed=seed)
    corpus.stats = corpus_stats(corpus)
    return corpus


def corpus_stats(corpus: Corpus) -> dict:
    per_repo = {}
    for repo, d in corpus.repos.items():
        per_repo[repo] = {
            "threads": len(d["issues"]),
            "comments": len(d["comments"]),
            "events": len(d["events"]),
            "pull_requests": sum("pull_request" in i for i in d["issues"]),
        }
    cats: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    kinds: dict[str, int] = {}
    bot_related = 0
    for row in corpus.truth:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        if row["bot_related"]:
            bot_related += 1
            for c in row["categories"].split(";"):
                cats[c] += 1
    return {"repos": per_repo, "bot_related": bot_related, "categories": cats, "kinds": kinds}


# =====================================================================================
# Writers
# =====================================================================================


def _write_json_gz(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(b"[")
        for start in range(0, len(items), 2000):
            chunk = ",".join(dumps(item) for item in items[start : start + 2000])
            if start:
                gz.write(b",")
            gz.write(chunk.encode("utf-8"))
        gz.write(b"]")


def write_sample(corpus: Corpus, out_dir: Path) -> list[Path]:
    """Write <out>/<owner>__<name>/{issues,comments}.json.gz and <out>/truth.csv."""
    out_dir = Path(out_dir)
    written = []
    for repo, d in corpus.repos.items():
        folder = out_dir / repo.replace("/", "__")
        for name in ("issues", "comments", "events"):
            path = folder / f"{name}.json.gz"
            _write_json_gz(path, d[name])
            written.append(path)
    path = out_dir / "truth.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["repo", "number", "bot_related", "kind", "bots", "categories"])
        for row in corpus.truth:
            w.writerow(
                [
                    row["repo"],
                    row["number"],
                    "true" if row["bot_related"] else "false",
                    row["kind"],
                    row["bots"],
                    row["categories"],
                ]
            )
    written.append(path)
    return written


def _noisy(rng: random.Random, cats: list[str], p_add_drop: float, p_swap: float) -> list[str]:
    cats = list(cats)
    x = rng.random()
    others = [c for c in CATEGORIES if c not in cats]
    if x < p_add_drop:
        if len(cats) > 1 and rng.random() < 0.5:
            cats.remove(rng.choice(cats))
        else:
            cats.append(rng.choice(others))
    elif x < p_add_drop + p_swap:
        cats.remove(rng.choice(cats))
        cats.append(rng.choice([c for c in others if c not in cats]))
    return sorted(set(cats))


# Confusions raters actually make: the closer reason is misread (stale vs issue management),
# a survey after a stale closure is overlooked, CLA messages that say "welcome" are read as
# onboarding.
_CONFUSIONS = {
    "stale": "issue_management",
    "issue_management": "stale",
    "feedback": "stale",
    "license": "onboarding",
    "onboarding": "stale",
    "continuous_integration": "commit_mapping",
    "commit_mapping": "continuous_integration",
    "code_coverage": "continuous_integration",
    "mention": "issue_management",
}


def _rater(
    rng: random.Random, cats: list[str], p_add_drop: float, p_swap: float, p_confuse: float
) -> list[str]:
    if rng.random() < p_confuse:
        c = rng.choice(cats)
        alt = _CONFUSIONS[c]
        cats = (
            sorted(set([x for x in cats if x != c] + [alt]))
            if rng.random() < 0.6
            else sorted({*cats, alt})
        )
    return _noisy(rng, cats, p_add_drop, p_swap)


def write_rater_files(corpus: Corpus, labels_dir: Path, seed: int = 2021) -> list[Path]:
    """Two synthetic raters' codings of every bot-related thread: rater1 close to the truth,
    rater2 noisier, so that pooled Cohen's kappa between them lands around 0.85."""
    labels_dir = Path(labels_dir)
    labels_dir.mkdir(parents=True, exist_ok=True)
    rows = [t for t in corpus.truth if t["bot_related"]]
    params = {"rater1.csv": (0.025, 0.0, 0.02), "rater2.csv": (0.08, 0.03, 0.04)}
    written = []
    for name, (p_ad, p_sw, p_cf) in params.items():
        rng = random.Random(f"{seed}:{name}")
        path = labels_dir / name
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["repo", "number", "categories"])
            for t in rows:
                cats = _rater(rng, t["categories"].split(";"), p_ad, p_sw, p_cf)
                w.writerow([t["repo"], t["number"], ";".join(cats)])
        written.append(path)
    return written


# =====================================================================================
# Self-check of the reference files
# =====================================================================================


def self_check(data_dir: Path = PROJECT_ROOT / "data") -> list[str]:
    """Load bot_registry.yaml and codebook.yaml, compile every pattern, cross-check names.

    Returns a list of problems (empty when everything is fine).
    """
    import yaml  # only the self-check needs PyYAML

    problems: list[str] = []
    reg = yaml.safe_load((Path(data_dir) / "bot_registry.yaml").read_text(encoding="utf-8"))
    book = yaml.safe_load((Path(data_dir) / "codebook.yaml").read_text(encoding="utf-8"))
    names, accounts = set(), set()
    for e in reg.get("entries", []):
        if not {"name", "kind", "accounts", "aliases", "libraries", "tasks", "description"} <= set(
            e
        ):
            problems.append(f"registry {e.get('name')}: keys {sorted(e)}")
        if e["name"] in names or e["name"] != e["name"].lower():
            problems.append(f"registry: bad or duplicate name {e['name']!r}")
        names.add(e["name"])
        if e["kind"] not in ("github_app", "machine_user", "external_service"):
            problems.append(f"registry {e['name']}: kind {e['kind']!r}")
        for a in e["accounts"]:
            if a.lower() in accounts:
                problems.append(f"registry {e['name']}: duplicate account {a}")
            accounts.add(a.lower())
        if not set(e["tasks"]) <= set(CATEGORIES):
            problems.append(f"registry {e['name']}: tasks {e['tasks']}")
    cats = [c["name"] for c in book.get("categories", [])]
    if cats != list(CATEGORIES):
        problems.append(f"codebook: categories {cats} != {list(CATEGORIES)}")
    for c in book.get("categories", []):
        for p in c["patterns"]:
            try:
                re.compile(p, re.IGNORECASE)
            except re.error as err:
                problems.append(f"codebook {c['name']}: pattern {p!r}: {err}")
        for b in c["typical_bots"]:
            if b not in names:
                problems.append(f"codebook {c['name']}: typical bot {b!r} not in registry")
        if not set(c["suppresses"]) <= set(CATEGORIES) - {c["name"]}:
            problems.append(f"codebook {c['name']}: suppresses {c['suppresses']}")
    for login, name in _REGISTRY_NAME.items():
        if name not in names or login.lower() not in accounts:
            problems.append(f"synthetic bot {login} is not registered as {name}")
    return problems


# =====================================================================================
# CLI
# =====================================================================================


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m botstudy_dev.synthetic", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "sample")
    ap.add_argument(
        "--labels", type=Path, default=PROJECT_ROOT / "data" / "labels" / "sample" / "coding"
    )
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument(
        "--check", action="store_true", help="only self-check the registry and codebook"
    )
    ap.add_argument("--no-check", action="store_true", help="skip the registry/codebook self-check")
    args = ap.parse_args(argv)
    if not args.check:
        t0 = time.perf_counter()
        corpus = generate_corpus(scale=args.scale, seed=args.seed)
        t1 = time.perf_counter()
        paths = write_sample(corpus, args.out) + write_rater_files(corpus, args.labels, args.seed)
        t2 = time.perf_counter()
        st = corpus.stats
        for repo, d in st["repos"].items():
            print(
                f"{repo}: {d['threads']} threads ({d['pull_requests']} PRs), {d['comments']} comments, {d['events']} events"
            )
        print(
            f"bot-related threads: {st['bot_related']}; categories: "
            + ", ".join(f"{c}={n}" for c, n in st["categories"].items())
        )
        print(f"generated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s:")
        for p in paths:
            print(f"  {p} ({p.stat().st_size:,} bytes)")
    if not args.no_check:
        try:
            problems = self_check()
        except ImportError:
            print("self-check skipped: PyYAML is not installed", file=sys.stderr)
            return 0
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        print("self-check: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
