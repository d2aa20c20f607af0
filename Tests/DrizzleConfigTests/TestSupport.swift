import Foundation
import Testing

@testable import DrizzleConfig

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // DrizzleConfigTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()

/// The shipped defaults file.
let shippedDefaultsPath = repositoryRoot.appending(path: "config/default.yaml").path

/// A fresh directory under the system's temporary directory, removed when the test is done.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "drizzle-config-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `text` to `name` in the directory and returns the file's path.
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appending(path: name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// A path in the directory where nothing exists.
    func missing(_ name: String) -> String {
        url.appending(path: name).path
    }
}

/// The error `load` throws for `source`, or nil if it loads.
func loadError(_ source: ConfigurationSource) -> ConfigurationError? {
    do {
        _ = try DrizzleConfiguration.load(source)
        return nil
    } catch {
        return error
    }
}

/// Loads with only environment variables and arguments.
func load(environment: [String: String] = [:], arguments: [String] = []) throws -> DrizzleConfiguration {
    try DrizzleConfiguration.load(ConfigurationSource(environment: environment, arguments: arguments))
}
