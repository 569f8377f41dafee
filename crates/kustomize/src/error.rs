//! The error type of the Kustomize renderer: one variant per step that can fail, each naming
//! the file (and line, where known) and saying how to fix the problem.

/// Why rendering a kustomization (or splitting a manifest file) failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KustomizeError {
    /// A manifest or patch file is not valid YAML, or a document is not an object.
    #[error("{file}{}: invalid YAML: {message}", at(*line))]
    InvalidYaml {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// The directory holds no kustomization file, or more than one.
    #[error("{file}: {message}")]
    MissingKustomization {
        /// The directory without a kustomization file, or the first of several.
        file: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// The kustomization has an unknown field or a field of the wrong shape.
    #[error("{file}{}: {message}", at(*line))]
    InvalidKustomization {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// The kustomization uses a Kustomize feature braid does not implement.
    #[error(
        "{file}{}: `{field}` is not supported by braid's kustomize subset; {hint}",
        at(*line)
    )]
    UnsupportedField {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// The kustomization field braid does not implement.
        field: String,
        /// What to do instead.
        hint: String,
    },
    /// An entry of `resources`, a patch file or a generator source does not exist.
    #[error("{file}{}: {message}", at(*line))]
    MissingResource {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A kustomization includes itself, directly or through other kustomizations.
    #[error("{file}: kustomization cycle: {}; remove one of these `resources` entries", chain.join(" -> "))]
    Cycle {
        /// The kustomization file where the cycle closes.
        file: String,
        /// The kustomizations of the cycle, in the order they include each other.
        chain: Vec<String>,
    },
    /// Two resources with the same kind, namespace and name.
    #[error("{file}{}: {message}", at(*line))]
    DuplicateResource {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A patch could not be parsed or applied.
    #[error("{file}{}: invalid patch: {message}", at(*line))]
    InvalidPatch {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A patch names an object that is not among the kustomization's resources.
    #[error("{file}{}: patch target not found: {message}", at(*line))]
    PatchTargetNotFound {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A reference (a binding's subject) fits more than one object of the kustomization.
    #[error("{file}{}: {message}", at(*line))]
    AmbiguousReference {
        /// The file (relative to the source root) of the object holding the reference.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A configMapGenerator / secretGenerator entry is invalid or cannot be merged.
    #[error("{file}{}: {message}", at(*line))]
    InvalidGenerator {
        /// The file (relative to the source root) the error is about.
        file: String,
        /// The 1-based line in `file`, where known.
        line: Option<usize>,
        /// What is wrong, and how to fix it.
        message: String,
    },
}

fn at(line: Option<usize>) -> String {
    line.map(|line| format!(":{line}")).unwrap_or_default()
}

impl KustomizeError {
    /// The file the error points at and, where known, the 1-based line.
    pub fn location(&self) -> (&str, Option<usize>) {
        match self {
            Self::InvalidYaml { file, line, .. }
            | Self::InvalidKustomization { file, line, .. }
            | Self::AmbiguousReference { file, line, .. }
            | Self::UnsupportedField { file, line, .. }
            | Self::MissingResource { file, line, .. }
            | Self::DuplicateResource { file, line, .. }
            | Self::InvalidPatch { file, line, .. }
            | Self::PatchTargetNotFound { file, line, .. }
            | Self::InvalidGenerator { file, line, .. } => (file, *line),
            Self::MissingKustomization { file, .. } | Self::Cycle { file, .. } => (file, None),
        }
    }

    /// A short summary without user-chosen names, for diagnostics.
    pub fn summary(&self) -> &'static str {
        match self {
            Self::InvalidYaml { .. } => "Invalid YAML",
            Self::MissingKustomization { .. } => "Missing kustomization",
            Self::InvalidKustomization { .. } => "Invalid kustomization",
            Self::UnsupportedField { .. } => "Unsupported kustomization field",
            Self::MissingResource { .. } => "Missing resource",
            Self::Cycle { .. } => "Kustomization cycle",
            Self::DuplicateResource { .. } => "Duplicate resource",
            Self::InvalidPatch { .. } => "Invalid patch",
            Self::PatchTargetNotFound { .. } => "Patch target not found",
            Self::InvalidGenerator { .. } => "Invalid generator",
            Self::AmbiguousReference { .. } => "Ambiguous reference",
        }
    }
}
