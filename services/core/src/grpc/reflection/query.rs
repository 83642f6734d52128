//! One reflection request answered in a version-neutral form: `grpc.reflection.v1` and `v1alpha` carry the
//! same messages, so their adapters only convert to and from these types.

use tonic::Code;

use super::index::DescriptorIndex;

/// What a client asked, whatever the protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Query {
    /// `list_services`.
    ListServices,
    /// `file_by_filename`.
    FileByFilename(String),
    /// `file_containing_symbol`: a fully-qualified name.
    FileContainingSymbol(String),
    /// `file_containing_extension`.
    FileContainingExtension {
        /// The fully-qualified extended message.
        containing_type: String,
        /// The extension's field number.
        number: i32,
    },
    /// `all_extension_numbers_of_type`: a fully-qualified message name.
    AllExtensionNumbersOfType(String),
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// The names of the services served.
    Services(Vec<String>),
    /// Encoded `FileDescriptorProto`s: the file asked for first, then its transitive dependencies, each once.
    Files(Vec<Vec<u8>>),
    /// The known extension numbers of a message type.
    ExtensionNumbers {
        /// The message type, as asked.
        base_type_name: String,
        /// Its extension numbers, ascending; empty if it has none.
        numbers: Vec<i32>,
    },
}

/// Why a request has no answer: sent back as an `ErrorResponse` in the stream, which keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum LookupError {
    /// The request set no `message_request`.
    #[error("the request sets no message_request")]
    NoRequest,
    /// No file of that name.
    #[error("file not found: {0}")]
    FileNotFound(String),
    /// No symbol of that fully-qualified name.
    #[error("symbol not found: {0}")]
    SymbolNotFound(String),
    /// No such extension.
    #[error("extension {number} of {containing_type} not found")]
    ExtensionNotFound {
        /// The extended message.
        containing_type: String,
        /// The extension number.
        number: i32,
    },
    /// No message type of that fully-qualified name.
    #[error("message type not found: {0}")]
    TypeNotFound(String),
}

impl LookupError {
    /// The status code of the `ErrorResponse`.
    pub(super) fn code(&self) -> Code {
        match self {
            LookupError::NoRequest => Code::InvalidArgument,
            LookupError::FileNotFound(_)
            | LookupError::SymbolNotFound(_)
            | LookupError::ExtensionNotFound { .. }
            | LookupError::TypeNotFound(_) => Code::NotFound,
        }
    }
}

/// Answers `query` (or passes on why there is none) from `index`.
pub(super) fn answer(
    index: &DescriptorIndex,
    query: Result<Query, LookupError>,
) -> Result<Answer, LookupError> {
    match query? {
        Query::ListServices => Ok(Answer::Services(index.services().to_vec())),
        Query::FileByFilename(name) => index
            .file_named(&name)
            .map(|file| Answer::Files(index.encoded_with_dependencies(file)))
            .ok_or(LookupError::FileNotFound(name)),
        Query::FileContainingSymbol(symbol) => index
            .file_declaring(&symbol)
            .map(|file| Answer::Files(index.encoded_with_dependencies(file)))
            .ok_or(LookupError::SymbolNotFound(symbol)),
        Query::FileContainingExtension {
            containing_type,
            number,
        } => index
            .file_extending(&containing_type, number)
            .map(|file| Answer::Files(index.encoded_with_dependencies(file)))
            .ok_or(LookupError::ExtensionNotFound {
                containing_type,
                number,
            }),
        Query::AllExtensionNumbersOfType(message) => match index.extension_numbers_of(&message) {
            Some(numbers) => Ok(Answer::ExtensionNumbers {
                numbers: numbers.to_vec(),
                base_type_name: message,
            }),
            None => Err(LookupError::TypeNotFound(message)),
        },
    }
}
