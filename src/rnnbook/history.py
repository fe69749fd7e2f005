"""The history of recurrent networks, as data.

Chapter 1 draws its timeline from :data:`TIMELINE`; nothing in the figure is
typed by hand. Each record names the work, the year of the publication cited,
its citation key in ``book/references.bib``, a category (``kind``) and one line
on why it mattered.

The dating rule, stated in chapter 1 and tested in ``tests/test_history.py``:
each record stands for one idea and cites the first publication of that idea
*among the works the book cites*; its year is the year of that publication.
Journal and conference papers, technical reports and theses count; preprints
do not (attention by alignment was on arXiv in 2014 and is dated 2015, the
year of ICLR). Later works that completed or restated an idea are cited in the
text, not drawn. So backpropagation through time is dated 1986, the unfolding
of Rumelhart, Hinton and Williams, not 1990, Werbos's general account; Turing
completeness 1991, not 1995, the full proof; the forget gate 1999, the ICANN
paper, not 2000, the journal paper; and peepholes 2000, not 2002. The rule
does not establish priority: several ideas circulated earlier in reports the
book does not cite, and chapter 1 names those dates in its text.
"""

from dataclasses import dataclass

#: The categories, in the order the timeline draws its lanes (bottom to top).
KINDS = (
    "theory",
    "associative memory",
    "delays",
    "recurrent architecture",
    "gated",
    "training",
    "encoder-decoder, attention",
    "parallel recurrence",
    "application",
)


@dataclass(frozen=True)
class Milestone:
    """One dated work in the history of recurrent networks.

    Attributes:
        year: year of the cited publication.
        work: a short name for the figure (a few words).
        key: the BibTeX key in ``book/references.bib``.
        kind: one of :data:`KINDS`.
        significance: one line on what the work contributed.
    """

    year: int
    work: str
    key: str
    kind: str
    significance: str

    def __post_init__(self):
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise ValueError(f"year must be an int, got {type(self.year).__name__}")
        if not 1900 <= self.year <= 2100:
            raise ValueError(f"year must be in [1900, 2100], got {self.year}")
        for name in ("work", "key", "significance"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")


_M = Milestone

#: The timeline, sorted by year (then by the order below within a year).
TIMELINE = (
    _M(1943, "McCulloch-Pitts nets", "mcculloch1943", "theory",
       "nets of binary threshold neurons, with and without cycles, as logic"),
    _M(1956, "Kleene: regular events", "kleene1956", "theory",
       "what nets of threshold neurons with cycles can recognise: the regular events"),
    _M(1967, "Minsky: automata as nets", "minsky1967", "theory",
       "a construction of a threshold net for every finite automaton"),
    _M(1972, "Amari: correlation-rule net", "amari1972", "associative memory",
       "threshold-element networks that learn to recall patterns and pattern sequences"),
    _M(1974, "Little: synchronous net", "little1974", "associative memory",
       "binary neurons updated synchronously, whose persistent states act as memories"),
    _M(1982, "Hopfield network", "hopfield1982", "associative memory",
       "symmetric weights and an energy function: stored patterns become stable states"),
    _M(1986, "backprop; unfolding in time", "rumelhart1986", "training",
       "gradient learning of hidden representations; a recurrent net unfolded in time is trained"
       " the same way, the idea of backpropagation through time"),
    _M(1986, "Jordan network", "jordan1986", "recurrent architecture",
       "the previous output is fed back through self-connected state units: serial order"),
    _M(1987, "recurrent backpropagation", "pineda1987", "training",
       "gradient learning of the fixed points of a recurrent network (with Almeida 1987)"),
    _M(1989, "TDNN", "waibel1989", "delays",
       "a feedforward net over a sliding window of delayed inputs, weights shared in time"),
    _M(1989, "RTRL", "williams1989", "training",
       "real-time recurrent learning: exact online gradients carried forward in time"),
    _M(1990, "Elman network (SRN)", "elman1990", "recurrent architecture",
       "the hidden state is copied into context units: the simple recurrent network"),
    _M(1990, "truncated BPTT", "williams1990", "training",
       "gradients propagated back only a fixed number of steps, for long sequences"),
    _M(1990, "neural identification and control", "narendra1990", "delays",
       "neural networks with tapped delay lines identify and control dynamical systems"),
    _M(1991, "vanishing gradients", "hochreiter1991", "theory",
       "error signals propagated back in time shrink or grow exponentially"),
    _M(1991, "Turing completeness", "siegelmann1991", "theory",
       "a finite recurrent net with rational weights can simulate any Turing machine"),
    _M(1992, "history compressor", "schmidhuber1992", "recurrent architecture",
       "a hierarchy of predictors that passes on only unexpected inputs"),
    _M(1994, "long-term dependencies", "bengio1994", "theory",
       "learning long-range dependencies by gradient descent is shown to be hard"),
    _M(1996, "NARX recurrent networks", "lin1996", "delays",
       "output delays shorten gradient paths and help long-term dependencies"),
    _M(1997, "bidirectional RNN", "schuster1997", "recurrent architecture",
       "two recurrences, forwards and backwards in time, read the whole sequence"),
    _M(1997, "LSTM", "hochreiter1997", "gated",
       "a gated memory cell with a constant error carousel bridges long time lags"),
    _M(1999, "forget gate", "gers1999", "gated",
       "the cell learns to reset itself, so LSTM can process continual input streams"),
    _M(2000, "peepholes", "gersschmidhuber2000", "gated",
       "gates look at the cell state, to learn precise timing and counting"),
    _M(2001, "echo state network", "jaeger2001", "recurrent architecture",
       "a fixed random reservoir; only the linear readout is trained"),
    _M(2002, "liquid state machine", "maass2002", "recurrent architecture",
       "a fixed recurrent circuit of spiking neurons read out by trained units"),
    _M(2005, "bidirectional LSTM", "graves2005", "gated",
       "LSTM read in both directions, for framewise phoneme classification"),
    _M(2006, "CTC", "graves2006", "training",
       "connectionist temporal classification: label sequences without alignment"),
    _M(2009, "handwriting recognition", "graves2009", "application",
       "LSTM with CTC recognises unconstrained handwritten text"),
    _M(2010, "RNN language model", "mikolov2010", "application",
       "a simple recurrent network as a language model for speech recognition"),
    _M(2013, "deep LSTM speech recognition", "graves2013", "application",
       "deep bidirectional LSTM trained end to end for phoneme recognition"),
    _M(2013, "exploding gradients, clipping", "pascanu2013", "training",
       "exploding gradients analysed, and tamed by rescaling the gradient norm"),
    _M(2013, "recurrent continuous translation", "kalchbrenner2013",
       "encoder-decoder, attention",
       "a recurrent model of the target sentence conditioned on a vector for the source"),
    _M(2014, "GRU in an encoder-decoder", "cho2014", "gated",
       "the GRU, in an encoder-decoder that scores phrase pairs for a statistical translator"),
    _M(2014, "seq2seq", "sutskever2014", "encoder-decoder, attention",
       "deep LSTM encoder and decoder translate end to end through one vector"),
    _M(2014, "GRU vs LSTM compared", "chung2014", "gated",
       "LSTM, GRU and tanh units compared on polyphonic music and speech signals; names the GRU"),
    _M(2014, "Clockwork RNN", "koutnik2014", "recurrent architecture",
       "hidden modules updated at different clock periods"),
    _M(2015, "attention", "bahdanau2015", "encoder-decoder, attention",
       "the decoder learns to align with and weight every encoder state"),
    _M(2015, "Tree-LSTM", "tai2015", "gated",
       "LSTM composed over a syntax tree instead of a chain"),
    _M(2016, "parallel LSTM", "bouaziz2016", "parallel recurrence",
       "several LSTMs run side by side on parallel input streams"),
    _M(2017, "QRNN", "bradbury2017", "parallel recurrence",
       "convolutions across time plus a cheap elementwise recurrent pooling"),
    _M(2017, "Transformer", "vaswani2017", "encoder-decoder, attention",
       "self-attention alone, with no recurrence at all"),
    _M(2018, "SRU", "lei2018", "parallel recurrence",
       "all matrix products take the input only; the recurrence is elementwise"),
    _M(2018, "sliced RNN", "yu2018", "parallel recurrence",
       "the sequence is cut into slices processed in parallel, then merged"),
)  # fmt: skip


def _check_records(records):
    if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
        raise ValueError(f"records must be a sequence of Milestone, got {type(records).__name__}")
    records = tuple(records)
    for i, record in enumerate(records):
        if not isinstance(record, Milestone):
            raise ValueError(f"records[{i}] must be a Milestone, got {type(record).__name__}")
    return records


def by_kind(kind, records=TIMELINE):
    """The records of one category, in their order.

    Args:
        kind: one of :data:`KINDS`.
        records: a sequence of :class:`Milestone` (default: the whole timeline).

    Returns:
        A tuple of :class:`Milestone`.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return tuple(r for r in _check_records(records) if r.kind == kind)


def sorted_by_year(records=TIMELINE):
    """The records sorted by year; records of the same year keep their order."""
    return tuple(sorted(_check_records(records), key=lambda r: r.year))


def as_rows(records=TIMELINE):
    """The records as a list of plain tuples ``(year, work, key, kind, significance)``.

    Useful to print a table or build a DataFrame.
    """
    return [(r.year, r.work, r.key, r.kind, r.significance) for r in _check_records(records)]


def between(first_year, last_year, records=TIMELINE):
    """The records with ``first_year <= year <= last_year``."""
    for name, value in (("first_year", first_year), ("last_year", last_year)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {type(value).__name__}")
    if first_year > last_year:
        raise ValueError(f"first_year must be <= last_year, got {first_year} > {last_year}")
    return tuple(r for r in _check_records(records) if first_year <= r.year <= last_year)
