//! The descriptor index reflection answers from, built once at startup: every file encoded once with the
//! files it depends on, transitively, and every fully-qualified symbol and extension mapped to its file.

use std::collections::{HashMap, HashSet};

use prost_reflect::{DescriptorPool, FileDescriptor};

use super::ReflectionError;

/// One file of the pool, ready to send.
#[derive(Debug)]
struct IndexedFile {
    /// The encoded `FileDescriptorProto`, custom options and source info included.
    encoded: Vec<u8>,
    /// Pool indexes of this file and of everything it imports, transitively: each once, this one first.
    with_dependencies: Vec<usize>,
}

/// Every lookup reflection needs, answered without decoding anything again.
#[derive(Debug)]
pub(super) struct DescriptorIndex {
    /// The services actually served, sorted.
    services: Vec<String>,
    /// By pool index.
    files: Vec<IndexedFile>,
    file_by_name: HashMap<String, usize>,
    /// Fully-qualified name of every service, method, message (nested too), field, oneof, enum, enum value
    /// and extension, to the file that declares it.
    file_by_symbol: HashMap<String, usize>,
    /// (extended message, extension number) to the file that declares the extension.
    file_by_extension: HashMap<(String, i32), usize>,
    /// Every message type to the numbers of its known extensions (empty for most).
    extension_numbers: HashMap<String, Vec<i32>>,
}

impl DescriptorIndex {
    /// Decodes `descriptor_sets` (encoded `FileDescriptorSet`s) into one pool and indexes it. Every name in
    /// `served` must be a service of the pool.
    pub(super) fn build<'a>(
        descriptor_sets: &[&[u8]],
        served: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ReflectionError> {
        let pool = decode_pool(descriptor_sets)?;
        let services = served_services(&pool, served)?;
        let files = pool.files().map(|file| index_file(&file)).collect();
        let file_by_name = pool
            .files()
            .map(|file| (file.name().to_owned(), file.index()))
            .collect();
        let (file_by_extension, extension_numbers) = index_extensions(&pool)?;
        Ok(Self {
            services,
            files,
            file_by_name,
            file_by_symbol: index_symbols(&pool),
            file_by_extension,
            extension_numbers,
        })
    }

    /// The names of the services served, sorted.
    pub(super) fn services(&self) -> &[String] {
        &self.services
    }

    /// The file named `name`, if the pool has it.
    pub(super) fn file_named(&self, name: &str) -> Option<usize> {
        self.file_by_name.get(name).copied()
    }

    /// The file declaring the fully-qualified `symbol` (a leading dot is accepted).
    pub(super) fn file_declaring(&self, symbol: &str) -> Option<usize> {
        let symbol = symbol.strip_prefix('.').unwrap_or(symbol);
        self.file_by_symbol.get(symbol).copied()
    }

    /// The file declaring extension `number` of message `extended`.
    pub(super) fn file_extending(&self, extended: &str, number: i32) -> Option<usize> {
        let extended = extended.strip_prefix('.').unwrap_or(extended);
        self.file_by_extension
            .get(&(extended.to_owned(), number))
            .copied()
    }

    /// The extension numbers of message type `message`, or `None` if there is no such message type.
    pub(super) fn extension_numbers_of(&self, message: &str) -> Option<&[i32]> {
        let message = message.strip_prefix('.').unwrap_or(message);
        self.extension_numbers.get(message).map(Vec::as_slice)
    }

    /// The encoded file `file` followed by its transitive dependencies, each once.
    pub(super) fn encoded_with_dependencies(&self, file: usize) -> Vec<Vec<u8>> {
        self.files[file]
            .with_dependencies
            .iter()
            .map(|&index| self.files[index].encoded.clone())
            .collect()
    }
}

/// Adds every set to one pool; a file already added by an earlier set is skipped.
fn decode_pool(descriptor_sets: &[&[u8]]) -> Result<DescriptorPool, ReflectionError> {
    let mut pool = DescriptorPool::new();
    for set in descriptor_sets {
        pool.decode_file_descriptor_set(*set)?;
    }
    Ok(pool)
}

/// The served names, each checked against the pool, sorted and deduplicated.
fn served_services<'a>(
    pool: &DescriptorPool,
    served: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, ReflectionError> {
    let mut services = served
        .into_iter()
        .map(|name| match pool.get_service_by_name(name) {
            Some(_) => Ok(name.to_owned()),
            None => Err(ReflectionError::UnknownService(name.to_owned())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    services.sort();
    services.dedup();
    Ok(services)
}

fn index_file(file: &FileDescriptor) -> IndexedFile {
    IndexedFile {
        encoded: file.encode_to_vec(),
        with_dependencies: with_dependencies(file),
    }
}

/// `file` and its imports, depth first, each file once (the order of gRPC C++'s reflection server).
fn with_dependencies(file: &FileDescriptor) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut pending = vec![file.clone()];
    while let Some(next) = pending.pop() {
        if !seen.insert(next.index()) {
            continue;
        }
        order.push(next.index());
        let imports: Vec<FileDescriptor> = next.dependencies().collect();
        // Reversed onto the stack, so imports are visited in declaration order.
        pending.extend(imports.into_iter().rev());
    }
    order
}

fn index_symbols(pool: &DescriptorPool) -> HashMap<String, usize> {
    let mut symbols = HashMap::new();
    let mut add = |name: &str, file: FileDescriptor| {
        symbols.insert(name.to_owned(), file.index());
    };
    for service in pool.services() {
        add(service.full_name(), service.parent_file());
        for method in service.methods() {
            add(method.full_name(), method.parent_file());
        }
    }
    for message in pool.all_messages() {
        add(message.full_name(), message.parent_file());
        for field in message.fields() {
            add(field.full_name(), message.parent_file());
        }
        for oneof in message.oneofs() {
            add(oneof.full_name(), message.parent_file());
        }
    }
    for enumeration in pool.all_enums() {
        add(enumeration.full_name(), enumeration.parent_file());
        for value in enumeration.values() {
            add(value.full_name(), enumeration.parent_file());
        }
    }
    for extension in pool.all_extensions() {
        add(extension.full_name(), extension.parent_file());
    }
    symbols
}

type ExtensionIndexes = (HashMap<(String, i32), usize>, HashMap<String, Vec<i32>>);

/// The file of every extension, and the extension numbers of every message type (empty for most).
fn index_extensions(pool: &DescriptorPool) -> Result<ExtensionIndexes, ReflectionError> {
    let mut numbers: HashMap<String, Vec<i32>> = pool
        .all_messages()
        .map(|message| (message.full_name().to_owned(), Vec::new()))
        .collect();
    let mut files = HashMap::new();
    for extension in pool.all_extensions() {
        let extended = extension.containing_message().full_name().to_owned();
        // The pool accepts field numbers up to 2^29 - 1 only, so this always fits.
        let number = i32::try_from(extension.number()).map_err(|_| {
            ReflectionError::FieldNumber(extension.full_name().to_owned(), extension.number())
        })?;
        numbers.entry(extended.clone()).or_default().push(number);
        files.insert((extended, number), extension.parent_file().index());
    }
    for list in numbers.values_mut() {
        list.sort_unstable();
    }
    Ok((files, numbers))
}
