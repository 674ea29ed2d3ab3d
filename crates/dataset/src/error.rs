//! Why a dataset cannot be read as declared, by kind, so that a caller can act on the
//! difference (point elsewhere, fix the labels, fix the declaration); each with the message
//! a person reads.

/// What stops a dataset from being read; every kind carries its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetError {
    /// The folder, manifest, shard or class-names file is not there or cannot be read.
    #[error("{0}")]
    Unreadable(String),
    /// A label names no declared class, or samples' labels cannot be used.
    #[error("{0}")]
    Labels(String),
    /// The declared classes do not fit the data: a class with no sample, or `classes` naming
    /// one the class names lack.
    #[error("{0}")]
    Classes(String),
    /// One file or sample under two labels, or one name listed twice.
    #[error("{0}")]
    Duplicate(String),
    /// No sample could be used at all.
    #[error("{0}")]
    Empty(String),
    /// A file that is not what it should be (a manifest's columns, a truncated shard, a
    /// shard pattern), or more than a reader takes.
    #[error("{0}")]
    Malformed(String),
}

impl DatasetError {
    /// The message with `context` before it (e.g. the file that declared the dataset).
    pub fn in_context(self, context: impl std::fmt::Display) -> Self {
        self.map(|message| format!("{context}: {message}"))
    }

    /// The same kind with another message.
    pub fn map(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Self::Unreadable(m) => Self::Unreadable(f(m)),
            Self::Labels(m) => Self::Labels(f(m)),
            Self::Classes(m) => Self::Classes(f(m)),
            Self::Duplicate(m) => Self::Duplicate(f(m)),
            Self::Empty(m) => Self::Empty(f(m)),
            Self::Malformed(m) => Self::Malformed(f(m)),
        }
    }
}

/// Structural problems found by the readers' helpers are malformed input unless a reader
/// says otherwise.
impl From<String> for DatasetError {
    fn from(message: String) -> Self {
        Self::Malformed(message)
    }
}
