import Foundation
import Testing

/// The prompt at a terminal: run under a pseudo-terminal (`script`, from util-linux), typed into
/// key by key, as a user would.
@Suite("drizzle prompt: control keys at a terminal", .serialized)
struct TerminalControlKeyTests {
    /// Output captured so far (the terminal's, with its escape sequences).
    func text(_ file: URL) -> String {
        String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
    }

    @Test("Ctrl-C clears a typed line and at an empty line stops the nodes as X does; non-ASCII file names survive")
    func controlKeys() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28400, size: 1)
            let drizzle = try builtExecutable("drizzle").path
            let output = folder.appendingPathComponent("terminal.txt")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            // exec: the shell `script` would start gets Ctrl-C's SIGINT too, and exits 130 for it.
            process.arguments = ["-qfec", "exec '\(drizzle)' --config drizzle.yaml", output.path]
            process.currentDirectoryURL = folder
            process.environment = ["LANG": "C", "TERM": "xterm", "PATH": "/usr/bin:/bin"]
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            func type(_ keys: String, thenWaitFor expected: String, count: Int = 1) async throws -> Bool {
                try input.fileHandleForWriting.write(contentsOf: Data(keys.utf8))
                for _ in 0..<200 {
                    if text(output).components(separatedBy: expected).count - 1 >= count { return true }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            #expect(try await type("", thenWaitFor: "Enter a command or type H for help:"), "\(text(output))")
            // A typed line, then Ctrl-C: the line is dropped, a new prompt appears.
            #expect(try await type("WN résumé.txt", thenWaitFor: "résumé.txt"))
            #expect(try await type("\u{03}", thenWaitFor: "Enter a command or type H for help:", count: 2), "\(text(output))")
            // The same line entered: it arrives whole, é included (the C locale of this run notwithstanding).
            #expect(try await type("WN résumé.txt\r", thenWaitFor: "check the path"), "\(text(output))")
            #expect(text(output).contains("no file at résumé.txt"), "\(text(output))")
            // Ctrl-C at an empty line: goodbye, as X.
            #expect(try await type("\u{03}", thenWaitFor: "goodbye"), "\(text(output))")
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            if !process.isRunning { #expect(process.terminationStatus == 0, "\(text(output))") }
            #expect(text(output).components(separatedBy: "no file at").count == 2, "the cleared line never ran")
        }
    }

    @Test("an event printed while a line is being typed appears above it, the typed text kept; Ctrl-D says goodbye")
    func redrawAndEnd() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28500, size: 1)
            let drizzle = try builtExecutable("drizzle").path
            let output = folder.appendingPathComponent("terminal.txt")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qfec", "exec '\(drizzle)' --config drizzle.yaml", output.path]
            process.currentDirectoryURL = folder
            process.environment = ["LANG": "C.UTF-8", "TERM": "xterm", "PATH": "/usr/bin:/bin"]
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            func type(_ keys: String, thenWaitFor expected: String, count: Int = 1) async throws -> Bool {
                try input.fileHandleForWriting.write(contentsOf: Data(keys.utf8))
                for _ in 0..<200 {
                    if text(output).components(separatedBy: expected).count - 1 >= count { return true }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            #expect(try await type("SUB *\r", thenWaitFor: "subscribed to *"), "\(text(output))")
            #expect(try await type("EV 3", thenWaitFor: "EV 3"))
            let published = try runTool("drizzle", ["publish", "--socket", "data/node-28500.sock", "news", "hello"], cwd: folder)
            #expect(published.succeeded, "\(published)")
            #expect(try await type("", thenWaitFor: "from node-28500 #1: hello"), "\(text(output))")
            // The event line came before the prompt was drawn again with the typed text.
            let afterEvent = text(output).components(separatedBy: "#1: hello").last ?? ""
            #expect(afterEvent.contains("Enter a command or type H for help: EV 3"), "\(text(output))")
            // The typed line is still there: Enter runs it.
            #expect(try await type("\r", thenWaitFor: "bus: lamport"), "\(text(output))")
            // Ctrl-D at an empty line: goodbye, as X.
            #expect(try await type("\u{04}", thenWaitFor: "goodbye"), "\(text(output))")
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            if !process.isRunning { #expect(process.terminationStatus == 0, "\(text(output))") }
        }
    }
}
