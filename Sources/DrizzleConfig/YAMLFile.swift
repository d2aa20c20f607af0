import Configuration
import Foundation
import Synchronization

/// A configuration file read and parsed once, synchronously, into swift-configuration's
/// `YAMLSnapshot`, and served as an immutable provider (the pattern of the library's
/// "Implementing a custom provider" guide). `FileProvider<YAMLSnapshot>` does the same but only
/// through an `async` initializer; reading the bytes here keeps ``DrizzleConfiguration/load(_:)``
/// synchronous and lets it tell a missing file from unreadable bytes from bad YAML.
struct YAMLFile: ConfigProvider {
    /// The path as the user gave it; error messages quote it.
    let path: String
    private let contents: YAMLSnapshot

    /// Reads and parses the file at `path` and checks that every key in it is a known setting.
    /// Returns nil for a file that holds nothing but blank lines and comments.
    static func read(path: String) throws(ConfigurationError) -> YAMLFile? {
        try parse(Array(try readBytes(path: path)), path: path)
    }

    /// Parses a file's bytes (already read) and checks its keys; `path` names it in errors.
    static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> YAMLFile? {
        let text = String(decoding: bytes, as: UTF8.self)
        if isBlank(text) { return nil }

        let keys = KeyRecorder()
        let options = YAMLSnapshot.ParsingOptions(
            // The snapshot asks this predicate about every leaf key while it parses, so it doubles as
            // the list of keys the file holds (nothing is marked secret).
            secretsSpecifier: .dynamic { key, _ in
                keys.record(key)
                return false
            }
        )
        let snapshot: YAMLSnapshot
        do {
            snapshot = try YAMLSnapshot(data: bytes.span.bytes, providerName: "YAMLFile[\(path)]", parsingOptions: options)
        } catch {
            throw .invalidYAML(path: path, reason: oneLine(error))
        }
        let file = YAMLFile(path: path, contents: snapshot)
        try file.checkKeys(keys.recorded)
        return file
    }

    private static func readBytes(path: String) throws(ConfigurationError) -> Foundation.Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        if isDirectory.boolValue {
            throw .unreadableFile(path: path, reason: "it is a directory")
        }
        do {
            return try Foundation.Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: oneLine(error))
        }
    }

    /// Whether YAML text holds no values: only blank lines, comments and document markers.
    private static func isBlank(_ text: String) -> Bool {
        text.split(whereSeparator: \.isNewline).allSatisfy { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed == "---" || trimmed == "..."
        }
    }

    /// Rejects keys that are not settings. A section header with nothing under it (`gossip:` with
    /// all its keys commented out) is fine; a section given a value (`gossip: 5`) is not.
    private func checkKeys(_ keys: [String]) throws(ConfigurationError) {
        for key in keys where Setting.byKey[key] == nil {
            if Setting.sections.contains(key) {
                if isNull(key) { continue }
                throw .sectionNotMapping(path: path, section: key)
            }
            if let note = Setting.removed[key] { throw .removedKey(path: path, key: key, note: note) }
            throw .unknownKey(path: path, key: key, suggestion: Self.closestKey(to: key))
        }
    }

    private func isNull(_ key: String) -> Bool {
        guard let result = try? contents.value(forKey: AbsoluteConfigKey([key]), type: .string),
            case .string(let text)? = result.value?.content
        else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The known key nearest to a misspelt one, if it is within a couple of edits.
    static func closestKey(to key: String) -> String? {
        let scored = Setting.all.map { ($0.key, editDistance(key, $0.key)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 5) else { return nil }
        return best.0
    }

    /// Levenshtein distance between two keys.
    private static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs)
        let b = Array(rhs)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }

    // MARK: ConfigProvider (immutable: fetch is get, watch emits the one value)

    var providerName: String { contents.providerName }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        // Yams reads `1:2:3` as a base-60 integer (YAML 1.1) and traps on overflow once there are a
        // dozen parts (found by fuzzing the config loader): an integer with a colon is refused
        // before Yams converts it, and the loader reports it as not an integer.
        if type == .int || type == .intArray, hasColon(key) { throw SexagesimalInteger() }
        return try contents.value(forKey: key, type: type)
    }

    private struct SexagesimalInteger: Error {}

    private func hasColon(_ key: AbsoluteConfigKey) -> Bool {
        switch (try? contents.value(forKey: key, type: .string))?.value?.content {
        case .string(let text)?: return text.contains(":")
        default: break
        }
        if case .stringArray(let items)? = (try? contents.value(forKey: key, type: .stringArray))?.value?.content {
            return items.contains { $0.contains(":") }
        }
        return false
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler:
            nonisolated(nonsending) (
                _ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>
            ) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { contents }

    func watchSnapshot<Return: ~Copyable>(
        updatesHandler:
            nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>)
            async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}

/// Collects the keys a `YAMLSnapshot` reports while it parses, in the order it visits them.
private final class KeyRecorder: Sendable {
    private let keys = Mutex<[String]>([])

    func record(_ key: String) {
        keys.withLock { $0.append(key) }
    }

    var recorded: [String] { keys.withLock { $0 } }
}

/// An error's description on one line. Parser errors from Yams span several lines: position and
/// context, the problem, then the offending source line with a caret under it (or a `Context:`
/// block); the source excerpt is dropped and the rest joined with "; ".
func oneLine(_ error: any Error) -> String {
    var lines = String(describing: error).split(whereSeparator: \.isNewline).map(String.init)
    if let last = lines.last, last.contains("^"), last.allSatisfy({ $0 == "^" || $0.isWhitespace }) {
        lines.removeLast(min(2, lines.count))
    }
    if let context = lines.firstIndex(of: "Context:") {
        lines.removeSubrange(context...)
    }
    return
        lines
        .map { line in
            var line = line.trimmingCharacters(in: .whitespaces).replacing(": error: ", with: ": ")
            while let last = line.last, last == ":" || last == "." { line.removeLast() }
            return line
        }
        .filter { !$0.isEmpty }
        .joined(separator: "; ")
}
