"""A convolutional network and an LSTM together: clips to classes, images to sentences.

Two models of the kind Donahue et al. (2015) call long-term recurrent convolutional
networks (LRCN):

- :class:`VideoClassifier`: a small CNN encodes every frame of a clip on its own, then
  an LSTM reads the T frame features in order and its last state is classified
  (action recognition, 行为识别). Two order-free baselines share the same CNN:
  ``pool="mean"`` classifies the mean of the frame features, ``pool="frame"`` one frame.
- :class:`CaptionModel`: a CNN encodes an image into a feature vector v, and an LSTM
  decoder writes a sentence one word at a time, reading at each step the previous word's
  embedding beside v (image captioning, 图像描述生成). It is trained with teacher forcing
  (:meth:`CaptionModel.forward`) and decodes greedily (:meth:`CaptionModel.greedy`).

The recurrent parts are ``torch.nn.LSTM``, which chapter 6 shows equal to the book's
LSTM. Words are numbered by a :class:`Vocabulary`.
"""

import torch
from torch import nn

from rnnbook._checks import check_int, check_option
from rnnbook.nn._checks import check_tensor

POOLS = ("lstm", "mean", "frame")


class FrameEncoder(nn.Module):
    """Two convolution-ReLU-max-pool blocks and a linear map: an image to a feature vector.

    Args:
        channels: input channels C (1 for grey frames, 3 for RGB).
        size: input height and width S, divisible by 4.
        features: output size F.
        width: channels of the first convolution (the second has twice as many).
    """

    def __init__(self, channels: int, size: int, features: int, width: int = 8):
        super().__init__()
        self.channels = check_int("channels", channels)
        self.size = check_int("size", size, minimum=4)
        if self.size % 4:
            raise ValueError(f"size must be divisible by 4 (two 2x2 poolings), got {size}")
        features = check_int("features", features)
        width = check_int("width", width)
        self.conv = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),  # (N, w, S, S)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, w, S/2, S/2)
            nn.Conv2d(width, 2 * width, 3, padding=1),  # (N, 2w, S/2, S/2)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 2w, S/4, S/4)
        )
        self.linear = nn.Linear(2 * width * (size // 4) ** 2, features)

    def forward(self, x):
        """x: (N, C, S, S) -> features (N, F), ReLU applied."""
        check_tensor(
            x,
            "x",
            shape=(None, self.channels, self.size, self.size),
            dims="(N, C, S, S)",
            like=self.linear.weight,
        )
        z = self.conv(x).flatten(1)  # (N, 2w S^2 / 16)
        return torch.relu(self.linear(z))  # (N, F)


class VideoClassifier(nn.Module):
    """Classify a clip (B, T, C, S, S) from per-frame CNN features.

    With ``pool="lstm"``:  v_t = CNN(x_t) for t = 1..T,  (h_t, c_t) = LSTM(v_t, h_{t-1}, c_{t-1}),
    logits = W_y h_T + b_y. With ``pool="mean"`` the logits read the mean of v_1..v_T (the
    same for any order of the frames); with ``pool="frame"`` they read v of the middle frame.

    Args:
        classes: number of classes K.
        channels, size: the frames' C and S.
        features: CNN feature size F.
        hidden: LSTM state size H (also the size of the mean pool's hidden layer).
        pool: ``"lstm"``, ``"mean"`` or ``"frame"``.
    """

    def __init__(self, classes, *, channels=1, size=16, features=32, hidden=32, pool="lstm"):
        super().__init__()
        check_option("pool", pool, POOLS)
        self.classes = check_int("classes", classes, minimum=2)
        self.pool = pool
        self.cnn = FrameEncoder(channels, size, features)
        hidden = check_int("hidden", hidden)
        if pool == "lstm":
            self.lstm = nn.LSTM(features, hidden, batch_first=True)
            self.head = nn.Linear(hidden, classes)
        else:  # an MLP on one feature vector, as deep as the LSTM's read-out path
            self.head = nn.Sequential(
                nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, classes)
            )

    def frame_features(self, x):
        """x: (B, T, C, S, S) -> v (B, T, F): the CNN applied to each frame on its own."""
        check_tensor(
            x,
            "x",
            shape=(None, None, self.cnn.channels, self.cnn.size, self.cnn.size),
            dims="(B, T, C, S, S)",
            like=self.cnn.linear.weight,
        )
        B, T = x.shape[:2]
        # the B T frames as one batch of images, then back to clips
        v = self.cnn(x.reshape(B * T, *x.shape[2:]))  # (B T, F)
        return v.reshape(B, T, -1)  # (B, T, F)

    def forward(self, x):
        """x: (B, T, C, S, S) -> logits (B, K)."""
        v = self.frame_features(x)  # (B, T, F)
        if self.pool == "mean":
            return self.head(v.mean(dim=1))  # (B, K)
        if self.pool == "frame":
            return self.head(v[:, v.shape[1] // 2])  # (B, K)
        h, _ = self.lstm(v)  # (B, T, H)
        return self.head(h[:, -1])  # (B, K): the last state h_T


class Vocabulary:
    """Words <-> integers, with ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2 first.

    Args:
        sentences: strings whose space-separated words make the vocabulary (sorted).
    """

    PAD, BOS, EOS = 0, 1, 2

    def __init__(self, sentences):
        if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)) or not sentences:
            raise ValueError(
                f"sentences must be a non-empty list of strings, got {sentences!r:.60}"
            )
        words = set()
        for i, s in enumerate(sentences):
            if not isinstance(s, str) or not s.split():
                raise ValueError(f"sentences[{i}] must be a non-empty str, got {s!r}")
            words.update(s.split())
        self.itos = ["<pad>", "<bos>", "<eos>", *sorted(words)]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, sentences):
        """Sentences -> (N, L + 2) int64: ``<bos>`` w_1 .. w_n ``<eos>``, padded with 0.

        L is the longest sentence's word count; an unknown word raises ValueError.
        """
        if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)) or not sentences:
            raise ValueError(
                f"sentences must be a non-empty list of strings, got {sentences!r:.60}"
            )
        rows = []
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise ValueError(f"sentences[{i}] must be a str, got {type(s).__name__}")
            unknown = [w for w in s.split() if w not in self.stoi]
            if unknown:
                raise ValueError(f"sentences[{i}] has words not in the vocabulary: {unknown}")
            rows.append([self.BOS, *(self.stoi[w] for w in s.split()), self.EOS])
        out = torch.full((len(rows), max(map(len, rows))), self.PAD, dtype=torch.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out

    def decode(self, ids):
        """One row of ids -> the sentence, stopping at the first ``<eos>`` (or ``<pad>``).

        ``ids`` is a 1-D int64 tensor or a list of ints, each in [0, len(vocabulary)).
        """
        if isinstance(ids, torch.Tensor):
            if ids.dtype != torch.int64 or ids.dim() != 1:
                raise ValueError(
                    f"ids must be a 1-D int64 tensor (L,), got {ids.dtype} of shape "
                    f"{tuple(ids.shape)}"
                )
            ids = ids.tolist()
        elif isinstance(ids, (list, tuple)):
            for k, i in enumerate(ids):
                if isinstance(i, bool) or not isinstance(i, int):
                    raise ValueError(f"ids[{k}] must be an int, got {type(i).__name__}")
        else:
            raise ValueError(
                f"ids must be a 1-D int64 tensor or a list of ints, got {type(ids).__name__}"
            )
        bad = [i for i in ids if not 0 <= i < len(self.itos)]
        if bad:
            raise ValueError(f"ids must be word ids in [0, {len(self.itos)}), got {bad[:5]}")
        words = []
        for i in ids:
            if i in (self.EOS, self.PAD):
                break
            if i != self.BOS:
                words.append(self.itos[i])
        return " ".join(words)


class CaptionModel(nn.Module):
    """A CNN image encoder and an LSTM caption decoder.

    v = CNN(image); at step t the LSTM reads [E w_{t-1} ; v], the embedding of the previous
    word beside the image feature (w_0 = ``<bos>``), from a zero state, and
    p(w_t | w_{<t}, image) = softmax(W_y h_t + b_y).

    Args:
        vocabulary: the number of words V (``len(Vocabulary)``).
        channels, size: the images' C and S.
        features: image feature size F.
        embed: word embedding size E.
        hidden: LSTM state size H.
    """

    def __init__(self, vocabulary, *, channels=3, size=24, features=64, embed=16, hidden=64):
        super().__init__()
        self.vocabulary = check_int("vocabulary", vocabulary, minimum=4)
        self.cnn = FrameEncoder(channels, size, features, width=16)
        self.embedding = nn.Embedding(vocabulary, check_int("embed", embed))
        self.lstm = nn.LSTM(embed + features, check_int("hidden", hidden), batch_first=True)
        self.out = nn.Linear(hidden, vocabulary)

    def _check_tokens(self, tokens, name):
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64 or tokens.dim() != 2:
            got = (
                f"{tokens.dtype} of shape {tuple(tokens.shape)}"
                if isinstance(tokens, torch.Tensor)
                else type(tokens).__name__
            )
            raise ValueError(f"{name} must be an int64 tensor (B, L), got {got}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocabulary):
            raise ValueError(f"{name} must hold word ids in [0, {self.vocabulary}), got others")

    def step(self, v, w_prev, state=None):
        """One decoder step. v: (B, F), w_prev: (B,) int64 -> logits (B, V), new (h, c).

        ``state`` is None (a zero state) or the (h, c) that the previous step returned, each
        of shape (1, B, H).
        """
        features = self.lstm.input_size - self.embedding.embedding_dim
        check_tensor(v, "v", shape=(None, features), dims="(B, F)", like=self.out.weight)
        if (
            not isinstance(w_prev, torch.Tensor)
            or w_prev.dtype != torch.int64
            or tuple(w_prev.shape) != (v.shape[0],)
        ):
            got = (
                f"{w_prev.dtype} of shape {tuple(w_prev.shape)}"
                if isinstance(w_prev, torch.Tensor)
                else type(w_prev).__name__
            )
            raise ValueError(f"w_prev must be an int64 tensor ({v.shape[0]},) (B,), got {got}")
        if w_prev.numel() and (w_prev.min() < 0 or w_prev.max() >= self.vocabulary):
            raise ValueError(f"w_prev must hold word ids in [0, {self.vocabulary}), got others")
        if state is not None:
            want = (1, v.shape[0], self.lstm.hidden_size)
            if (
                not isinstance(state, tuple)
                or len(state) != 2
                or any(not isinstance(s, torch.Tensor) or tuple(s.shape) != want for s in state)
            ):
                raise ValueError(f"state must be None or a pair (h, c) of shape {want} each")
        x = torch.cat([self.embedding(w_prev), v], dim=-1)  # (B, E + F)
        h, state = self.lstm(x[:, None], state)  # (B, 1, H)
        return self.out(h[:, 0]), state  # (B, V)

    def forward(self, images, tokens_in):
        """Teacher forcing: images (B, C, S, S), tokens_in (B, L) -> logits (B, L, V).

        ``tokens_in`` are the true previous words (``<bos>`` w_1 .. w_{L-1}); the logits at
        position t predict word t + 1.
        """
        self._check_tokens(tokens_in, "tokens_in")
        v = self.cnn(images)  # (B, F)
        if tokens_in.shape[0] != v.shape[0]:
            raise ValueError(
                f"tokens_in must have one row per image ({v.shape[0]}), got {tokens_in.shape[0]}"
            )
        L = tokens_in.shape[1]
        x = torch.cat([self.embedding(tokens_in), v[:, None].expand(-1, L, -1)], dim=-1)
        h, _ = self.lstm(x)  # (B, L, H)
        return self.out(h)  # (B, L, V)

    @torch.no_grad()
    def greedy(self, images, max_len=12):
        """Greedy decoding: at each step feed back the most probable word.

        images (B, C, S, S) -> ids (B, max_len) int64; after a row's ``<eos>`` it holds
        ``<pad>`` (0).
        """
        max_len = check_int("max_len", max_len)
        v = self.cnn(images)  # (B, F)
        B = v.shape[0]
        w = torch.full((B,), Vocabulary.BOS, dtype=torch.int64)  # (B,): w_0
        done = torch.zeros(B, dtype=torch.bool)
        out = torch.full((B, max_len), Vocabulary.PAD, dtype=torch.int64)
        state = None
        for t in range(max_len):
            logits, state = self.step(v, w, state)  # (B, V)
            w = logits.argmax(dim=-1)  # (B,): the most probable next word, fed back
            out[:, t] = torch.where(done, Vocabulary.PAD, w)
            done = done | (w == Vocabulary.EOS)
            if done.all():
                break
        return out


def caption_loss(logits, targets):
    """Mean cross-entropy per word: logits (B, L, V), targets (B, L) int64, ``<pad>`` ignored."""
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
        raise ValueError(
            f"logits must be a tensor (B, L, V), got {getattr(logits, 'shape', logits)}"
        )
    if not logits.is_floating_point():
        raise ValueError(f"logits must be a floating-point tensor, got {logits.dtype}")
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("logits must be finite, got NaN or inf")
    if not isinstance(targets, torch.Tensor) or targets.dtype != torch.int64:
        raise ValueError(
            f"targets must be an int64 tensor (B, L), got {getattr(targets, 'dtype', targets)}"
        )
    if tuple(targets.shape) != tuple(logits.shape[:2]):
        raise ValueError(
            f"targets must have shape {tuple(logits.shape[:2])} (B, L), got {tuple(targets.shape)}"
        )
    if targets.numel() and (targets.min() < 0 or targets.max() >= logits.shape[-1]):
        raise ValueError(
            f"targets must hold word ids in [0, {logits.shape[-1]}) (V = logits.shape[-1]), "
            "got others"
        )
    return nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=Vocabulary.PAD
    )


# ---- the two experiments of chapter 10, section 6: one seeded run each ------------------


def _seeded_batches(n, batch, seed):
    """A callable step -> index tensor (batch,), drawn from its own seeded generator."""
    g = torch.Generator().manual_seed(seed)
    return lambda step: torch.randint(0, n, (batch,), generator=g)


def video_run(pool, seed, *, n_train=1200, n_test=600, steps=300, batch=32, lr=3e-3):
    """Train a :class:`VideoClassifier` on ``rnnbook.data.moving_shapes`` and test it.

    The training clips come from data seed 1, the held-out clips from data seed 2 (the same
    for every model and seed); ``seed`` fixes the initial weights and the batches.

    Returns:
        dict with ``model``, ``history`` (``rnnbook.train.History``), ``accuracy`` on the
        held-out clips, ``predicted`` and ``labels`` (both (n_test,) int64 tensors).
    """
    from rnnbook import data, seed_everything, train

    check_option("pool", pool, POOLS)
    x, y = (torch.from_numpy(a) for a in data.moving_shapes(n_train, 1))
    x_test, y_test = (torch.from_numpy(a) for a in data.moving_shapes(n_test, 2))
    seed_everything(seed)
    model = VideoClassifier(len(data.MOTIONS), pool=pool)
    pick = _seeded_batches(n_train, batch, seed)

    def loss_fn(m, idx):
        return nn.functional.cross_entropy(m(x[idx]), y[idx])

    history = train.fit(model, loss_fn, pick, steps=steps, lr=lr, progress=True)
    with torch.no_grad():
        predicted = model(x_test).argmax(dim=1)  # (n_test,)
    accuracy = float((predicted == y_test).double().mean())
    return dict(model=model, history=history, accuracy=accuracy, predicted=predicted, labels=y_test)


def caption_run(seed, *, n_train=4000, n_test=300, steps=1000, batch=32, lr=3e-3):
    """Train a :class:`CaptionModel` on generated scenes and decode held-out scenes greedily.

    The descriptions are split by ``rnnbook.data.scene_description_split(0)``; training
    scenes show training descriptions only (data seeds 1 and 2). Two held-out sets of
    ``n_test`` new scenes: ``seen`` (new images of training descriptions) and ``unseen``
    (descriptions never shown in training). ``seed`` fixes the weights and the batches.

    Returns:
        dict with ``model``, ``history``, ``vocabulary`` and, for ``"seen"`` and
        ``"unseen"``, a dict of ``images``, ``references``, ``hypotheses``, ``exact``
        (the fraction decoded exactly) and ``bleu`` (corpus BLEU, sacrebleu).
    """
    import numpy as np

    from rnnbook import data, metrics, seed_everything, train

    train_d, test_d = data.scene_description_split(0)
    g = np.random.default_rng(1)
    d_train = [train_d[i] for i in g.integers(0, len(train_d), n_train)]
    d_seen = [train_d[i] for i in g.integers(0, len(train_d), n_test)]
    d_unseen = [test_d[i] for i in g.integers(0, len(test_d), n_test)]
    x = torch.from_numpy(data.scene_images(d_train, 2))
    vocabulary = Vocabulary(data.scene_descriptions())
    tokens = vocabulary.encode(d_train)  # (n_train, L + 2)
    seed_everything(seed)
    model = CaptionModel(len(vocabulary))
    pick = _seeded_batches(n_train, batch, seed)

    def loss_fn(m, idx):
        w = tokens[idx]  # (batch, L + 2)
        # teacher forcing: read <bos> w_1 .. w_n, predict w_1 .. w_n <eos>
        return caption_loss(m(x[idx], w[:, :-1]), w[:, 1:])

    history = train.fit(model, loss_fn, pick, steps=steps, lr=lr, progress=True)
    out = dict(model=model, history=history, vocabulary=vocabulary)
    for name, refs, data_seed in (("seen", d_seen, 3), ("unseen", d_unseen, 4)):
        images = torch.from_numpy(data.scene_images(refs, data_seed))
        hyps = [vocabulary.decode(r) for r in model.greedy(images)]
        exact = float(np.mean([h == r for h, r in zip(hyps, refs, strict=True)]))
        bleu = metrics.corpus_bleu(hyps, refs)
        out[name] = dict(images=images, references=refs, hypotheses=hyps, exact=exact, bleu=bleu)
    return out
