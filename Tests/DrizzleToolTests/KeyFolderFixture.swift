import Foundation

/// Runs the built `drizzle-keys` with `arguments` in `folder`.
func drizzleKeys(_ arguments: String..., in folder: URL) throws -> ToolRun {
    try runTool("drizzle-keys", arguments, cwd: folder)
}

extension ToolRun {
    /// The value printed on a `  label: value` line of standard output, if any.
    func field(_ label: String) -> String? {
        for line in outputLines {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("\(label):") {
                return trimmed.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// True when the run failed with exactly one line on standard error, prefixed as every
    /// `drizzle-keys` refusal is.
    var isOneLineRefusal: Bool {
        !succeeded && !terminatedBySignal && errorLines.count == 1
            && errorLines.first?.hasPrefix("drizzle-keys: error: ") == true
    }
}

/// The permission bits of the file at `path` inside `folder`.
func permissions(_ path: String, in folder: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(path).path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// True when `path` inside `folder` exists.
func exists(_ path: String, in folder: URL) -> Bool {
    FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path)
}

/// The text of `path` inside `folder`.
func text(of path: String, in folder: URL) throws -> String {
    try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
}

/// Replaces the text of `path` inside `folder`.
func write(_ text: String, to path: String, in folder: URL) throws {
    try Data(text.utf8).write(to: folder.appendingPathComponent(path))
}

/// Sets the permission bits of `path` inside `folder`.
func setPermissions(_ mode: Int, of path: String, in folder: URL) throws {
    try FileManager.default.setAttributes(
        [.posixPermissions: NSNumber(value: mode)], ofItemAtPath: folder.appendingPathComponent(path).path)
}

/// True when `text` is `count` upper-case hex digits.
func isHex(_ text: String?, count: Int) -> Bool {
    guard let text else { return false }
    return text.count == count && text.allSatisfy { ("0"..."9").contains($0) || ("A"..."F").contains($0) }
}

/// True when `text` is an ISO 8601 UTC timestamp such as `2035-05-01T12:00:00Z`.
func isISOTimestamp(_ text: String?) -> Bool {
    guard let text else { return false }
    return text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil
}

/// Parses an ISO 8601 UTC timestamp into Unix seconds.
func unixSeconds(_ iso: String?) -> Int64? {
    guard let iso, let date = ISO8601DateFormatter().date(from: iso) else { return nil }
    return Int64(date.timeIntervalSince1970)
}

/// The serial of the certificate file `path` inside `folder`, read by `drizzle-keys print`.
func serial(of path: String, in folder: URL) throws -> String? {
    try drizzleKeys("print", path, in: folder).field("serial")
}
