import Foundation

/// What one run of a built executable produced. Shared by the end-to-end suites of every
/// BitDrizzle executable (`drizzle-keys`, `drizzle`).
struct ToolRun: Sendable, CustomStringConvertible {
    /// The command line, for failure messages.
    var commandLine: String
    /// The exit status, or the signal number when `terminatedBySignal`.
    var status: Int32
    var terminatedBySignal: Bool
    var standardOutput: String
    var standardError: String

    /// True when the process exited normally with status 0.
    var succeeded: Bool { !terminatedBySignal && status == 0 }

    /// Standard error split into non-empty lines.
    var errorLines: [String] { standardError.split(whereSeparator: \.isNewline).map(String.init) }

    /// Standard output split into non-empty lines.
    var outputLines: [String] { standardOutput.split(whereSeparator: \.isNewline).map(String.init) }

    var description: String {
        "`\(commandLine)` exited \(terminatedBySignal ? "by signal " : "")\(status)\n"
            + "stdout:\n\(standardOutput)stderr:\n\(standardError)"
    }
}

/// Why an executable could not be run.
struct ToolRunError: Error, CustomStringConvertible {
    var description: String
}

/// The package root: three levels above this file (`Tests/DrizzleToolTests/ToolRun.swift`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The built executable `name` under `.build/debug/`; throws, saying to build it, when missing.
func builtExecutable(
    _ name: String, in package: String = ".",
    buildWith build: String = "swift build --build-tests, then swift test --skip-build"
) throws -> URL {
    let url = packageRoot.appendingPathComponent(package).appendingPathComponent(".build/debug/\(name)")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw ToolRunError(description: "\(url.path) is missing: build it first (`\(build)`)")
    }
    return url
}

/// Runs the built executable `executable` (a product name such as "drizzle-keys") with `arguments`
/// in the folder `cwd` and waits for it, at most `timeoutSeconds` (then it is killed and the run
/// reported as terminated by a signal). Output goes through files, so a chatty tool cannot block
/// on a full pipe.
func runTool(
    _ executable: String, _ arguments: [String], cwd: URL, input: String? = nil, timeoutSeconds: Double = 20
) throws -> ToolRun {
    let process = Process()
    process.executableURL = try builtExecutable(executable)
    process.arguments = arguments
    process.currentDirectoryURL = cwd
    let capture = try OutputCapture(attachingTo: process)
    defer { capture.close() }
    if let input {
        let inURL = capture.folder.appendingPathComponent("stdin")
        try Data(input.utf8).write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while process.isRunning && Date() < deadline { usleep(2_000) }
    if process.isRunning {
        process.terminate()
    }
    process.waitUntilExit()
    return capture.result(of: process, commandLine: [executable] + arguments)
}

/// Standard output and error of a process captured through files in a scratch folder (pipes can
/// fill up and stall a chatty process), turned into a `ToolRun` once it has exited.
final class OutputCapture {
    let folder: URL
    private let out: FileHandle
    private let err: FileHandle

    init(attachingTo process: Process) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("toolrun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] {
            _ = FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: nil)
        }
        out = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout"))
        err = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr"))
        process.standardOutput = out
        process.standardError = err
    }

    /// The exited `process`'s status and captured output.
    func result(of process: Process, commandLine: [String]) -> ToolRun {
        ToolRun(
            commandLine: commandLine.joined(separator: " "),
            status: process.terminationStatus,
            terminatedBySignal: process.terminationReason == .uncaughtSignal,
            standardOutput: read("stdout"), standardError: read("stderr"))
    }

    /// Closes the files and removes the folder.
    func close() {
        try? out.close()
        try? err.close()
        try? FileManager.default.removeItem(at: folder)
    }

    private func read(_ name: String) -> String {
        String(decoding: (try? Data(contentsOf: folder.appendingPathComponent(name))) ?? Data(), as: UTF8.self)
    }
}

/// A fresh empty folder for one test, removed afterwards.
func withScratchDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("drizzle-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}
