import Foundation
import Testing

/// `drizzle` under a pseudo-terminal (`script`, from util-linux), typed into key by key.
final class PseudoTerminal {
    let process = Process()
    let output: URL
    private let input = Pipe()

    /// Starts `drizzle --config drizzle.yaml` in `folder` with `LANG` set to `language`.
    init(in folder: URL, language: String) throws {
        let drizzle = try builtExecutable("drizzle").path
        output = folder.appendingPathComponent("terminal.txt")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // exec: the shell `script` would start gets Ctrl-C's SIGINT too, and exits 130 for it.
        process.arguments = ["-qfec", "exec '\(drizzle)' --config drizzle.yaml", output.path]
        process.currentDirectoryURL = folder
        process.environment = ["LANG": language, "TERM": "xterm", "PATH": "/usr/bin:/bin"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { if process.isRunning { process.terminate() } }

    /// What the terminal showed so far, escape sequences included.
    var text: String { String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self) }

    /// Types `keys`, then waits (at most 10 s) until `expected` was shown `count` times in all.
    func type(_ keys: String, thenWaitFor expected: String, count: Int = 1) async throws -> Bool {
        try input.fileHandleForWriting.write(contentsOf: Data(keys.utf8))
        for _ in 0..<200 {
            if text.components(separatedBy: expected).count - 1 >= count { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Waits (at most 5 s) for the process to end; its exit status, or nil while it runs.
    func exitStatus() async throws -> Int32? {
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

/// The prompt at a terminal: run under a pseudo-terminal (`script`, from util-linux), typed into
/// key by key, as a user would.
@Suite("drizzle prompt: control keys at a terminal", .serialized)
struct TerminalControlKeyTests {
    @Test("Ctrl-C clears a typed line and at an empty line stops the nodes as X does; non-ASCII file names survive")
    func controlKeys() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28400, size: 1)
            let terminal = try PseudoTerminal(in: folder, language: "C")
            #expect(try await terminal.type("", thenWaitFor: "Enter a command or type H for help:"), "\(terminal.text)")
            // A typed line, then Ctrl-C: the line is dropped, a new prompt appears.
            #expect(try await terminal.type("WN résumé.txt", thenWaitFor: "résumé.txt"))
            #expect(
                try await terminal.type("\u{03}", thenWaitFor: "Enter a command or type H for help:", count: 2), "\(terminal.text)")
            // The same line entered: it arrives whole, é included (the C locale of this run notwithstanding).
            #expect(try await terminal.type("WN résumé.txt\r", thenWaitFor: "check the path"), "\(terminal.text)")
            #expect(terminal.text.contains("no file at résumé.txt"), "\(terminal.text)")
            // Ctrl-C at an empty line: goodbye, as X.
            #expect(try await terminal.type("\u{03}", thenWaitFor: "goodbye"), "\(terminal.text)")
            #expect(try await terminal.exitStatus() == 0, "\(terminal.text)")
            #expect(terminal.text.components(separatedBy: "no file at").count == 2, "the cleared line never ran")
        }
    }

    @Test("an event printed while a line is being typed appears above it, the typed text kept; Ctrl-D says goodbye")
    func redrawAndEnd() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28500, size: 1)
            let terminal = try PseudoTerminal(in: folder, language: "C.UTF-8")
            #expect(try await terminal.type("SUB *\r", thenWaitFor: "subscribed to *"), "\(terminal.text)")
            #expect(try await terminal.type("EV 3", thenWaitFor: "EV 3"))
            let published = try runTool("drizzle", ["publish", "--socket", "data/node-28500.sock", "news", "hello"], cwd: folder)
            #expect(published.succeeded, "\(published)")
            #expect(try await terminal.type("", thenWaitFor: "from node-28500 #1: hello"), "\(terminal.text)")
            // The event line came before the prompt was drawn again with the typed text.
            let afterEvent = terminal.text.components(separatedBy: "#1: hello").last ?? ""
            #expect(afterEvent.contains("Enter a command or type H for help: EV 3"), "\(terminal.text)")
            // The typed line is still there: Enter runs it.
            #expect(try await terminal.type("\r", thenWaitFor: "bus: lamport"), "\(terminal.text)")
            // Ctrl-D at an empty line: goodbye, as X.
            #expect(try await terminal.type("\u{04}", thenWaitFor: "goodbye"), "\(terminal.text)")
            #expect(try await terminal.exitStatus() == 0, "\(terminal.text)")
        }
    }
}
