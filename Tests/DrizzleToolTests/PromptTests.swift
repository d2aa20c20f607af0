import Foundation
import Testing

@Suite("drizzle prompt", .serialized)
struct PromptTests {
    /// A config on its own ports so the test does not collide with a running cluster. The ports lie
    /// below Linux's ephemeral range (32768–60999): there, an outgoing connection of a test running
    /// beside this one could hold the port when the node binds it (it happened in a parallel run).
    func writeConfig(in folder: URL, basePort: Int, size: Int) throws {
        let text = """
            node:
              peer_base_port: \(basePort)
            net:
              size: \(size)
            keys:
              dir: keys
            membership:
              probe_interval_ms: 200
              probe_timeout_ms: 100
            """
        try text.write(to: folder.appendingPathComponent("drizzle.yaml"), atomically: true, encoding: .utf8)
    }

    @Test("commands piped into drizzle run a multi-mode cluster and exit 0")
    func pipedMultiMode() async throws {
        try await withScratchDirectory { folder in
            try writeConfig(in: folder, basePort: 26100, size: 5)
            let run = try runTool(
                "drizzle", ["--config", "drizzle.yaml"], cwd: folder, input: "H\nMM\nSZ\nRI\nMB\nbogus\nmm\nX\n",
                timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            let output = run.standardOutput
            #expect(output.contains("issued a development CA"))
            #expect(output.contains("multi mode: started 4 nodes"))
            #expect(output.contains("members in this node's view: 5"))
            #expect(output.contains("alive 4, suspect 0, dead 0, left 0"))
            #expect(output.contains("unknown command 'bogus' — type H for the list of commands"))
            #expect(output.contains("multi mode already runs 5 nodes"))
            #expect(output.contains("stopped 5 nodes"))
            // Every member row of MB names a certificate serial, and the keys were issued 0600.
            #expect(output.split(separator: "\n").filter { $0.contains(" alive   127.0.0.1:") }.count == 5)
            let key = folder.appendingPathComponent("keys/nodes/node-26103.key").path
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test("a prompt whose node certificates all expire soon says so in one line for all, not once per node")
    func expiryWarningsFold() async throws {
        try await withScratchDirectory { folder in
            try writeConfig(in: folder, basePort: 29300, size: 5)
            // An operator's CA (not the development one): the prompt must leave its certificates be.
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            for port in 29300..<29305 {
                try #require(try drizzleKeys("issue", "node-\(port)", "--duration", "12d12h", in: folder).succeeded)
            }
            let certificate = try text(of: "keys/nodes/node-29301.crt", in: folder)
            let run = try runTool("drizzle", ["--config", "drizzle.yaml"], cwd: folder, input: "MM\nX\n", timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("multi mode: started 4 nodes"), "\(run)")
            let mentions = (run.outputLines + run.errorLines).filter { $0.contains("expire") }
            #expect(
                mentions.contains { $0.hasPrefix("5 node certificates expire within 30 days (earliest node-2930") && $0.contains(" in 12 days)") },
                "\(run)")
            // The start's line for the local node and MM's for all five: no warning per node.
            #expect(mentions.count == 2, "\(run)")
            #expect(try text(of: "keys/nodes/node-29301.crt", in: folder) == certificate)
        }
    }

    @Test("a second prompt finds the first cluster with FN and joins it with JN")
    func findAndJoin() async throws {
        try await withScratchDirectory { folder in
            try writeConfig(in: folder, basePort: 26200, size: 3)
            let first = try BackgroundPrompt(in: folder, commands: "MM\n")
            defer { first.stop() }
            try await Task.sleep(for: .seconds(3))
            // The second prompt's own node would take port 26200, so it uses the next free base.
            let second = folder.appendingPathComponent("second")
            try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
            try """
                node:
                  peer_base_port: 26203
                net:
                  size: 3
                  scan_hosts: [127.0.0.1]
                  seeds: [127.0.0.1:26200]
                keys:
                  dir: ../keys
                """.write(to: second.appendingPathComponent("drizzle.yaml"), atomically: true, encoding: .utf8)
            let run = try runTool(
                "drizzle", ["--config", "drizzle.yaml"], cwd: second, input: "FN\nJN\nSZ\nX\n", timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("entry node 127.0.0.1:26200 (configured seed)"))
            #expect(run.standardOutput.contains("members in this node's view: 4"))
        }
    }

    @Test("drizzle attach runs prompt commands on a running node through its owner-only control socket")
    func attach() async throws {
        try await withScratchDirectory { folder in
            try writeConfig(in: folder, basePort: 26300, size: 3)
            let first = try BackgroundPrompt(in: folder, commands: "MM\n")
            defer { first.stop() }
            let socket = folder.appendingPathComponent("data/node-26300.sock").path
            var ready = false
            for _ in 0..<100 where !ready {
                try await Task.sleep(for: .milliseconds(100))
                ready = FileManager.default.fileExists(atPath: socket)
            }
            #expect(ready)
            try await Task.sleep(for: .seconds(2))
            let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let run = try runTool("drizzle", ["attach", "data/node-26300.sock"], cwd: folder, input: "SZ\nnope\nX\n", timeoutSeconds: 30)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("control socket data/node-26300.sock answers for node-26300"))
            #expect(run.standardOutput.contains("members in this node's view: 3"))
            #expect(run.standardOutput.contains("unknown command 'nope'"))
            #expect(run.standardOutput.contains("detached"))
            let missing = try runTool("drizzle", ["attach", "data/absent.sock"], cwd: folder)
            #expect(missing.status == 1 && missing.errorLines.count == 1)
        }
    }

    @Test("from the prompt: WN stores a file on the ring, LH locates its key, RN reads it back, DN deletes it")
    func dataCommands() async throws {
        try await withScratchDirectory { folder in
            try writeConfig(in: folder, basePort: 26500, size: 5)
            var generator = SystemRandomNumberGenerator()
            let original = Data((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try original.write(to: folder.appendingPathComponent("payload.bin"))
            let small = Data(original.prefix(3000))
            try small.write(to: folder.appendingPathComponent("small.bin"))
            let first = try BackgroundPrompt(in: folder, commands: "MM\n")
            defer { first.stop() }
            let socket = folder.appendingPathComponent("data/node-26500.sock").path
            var ready = false
            for _ in 0..<100 where !ready {
                try await Task.sleep(for: .milliseconds(100))
                ready = FileManager.default.fileExists(atPath: socket)
            }
            try await Task.sleep(for: .seconds(3))
            let write = try runTool(
                "drizzle", ["attach", "data/node-26500.sock"], cwd: folder,
                input: "WN payload.bin 1000\nWN missing.bin\nWN payload.bin 0\nRN 1234\nWN small.bin 4096\n", timeoutSeconds: 60)
            #expect(write.succeeded, "\(write)")
            let keyLine = write.standardOutput.split(separator: "\n").first { $0.hasPrefix("key ") }
            let key = try #require(keyLine.map { String($0.dropFirst(4)) })
            let smallKeyLine = write.standardOutput.split(separator: "\n").last { $0.hasPrefix("key ") }
            let smallKey = try #require(smallKeyLine.map { String($0.dropFirst(4)) })
            #expect(write.standardOutput.contains("wrote 3000 bytes in 1 piece of 4096 bytes, inside its manifest, on 3 replicas each"))
            #expect(write.standardOutput.contains("wrote 200000 bytes in 200 pieces of 1000 bytes on 3 replicas each"))
            #expect(write.standardOutput.contains("no file at missing.bin"))
            #expect(write.standardOutput.contains("WN: usage: WN [file=test_file.txt] [piece_size=256]"))
            #expect(write.standardOutput.contains("'1234' is not a key"))
            let read = try runTool(
                "drizzle", ["attach", "data/node-26500.sock"], cwd: folder,
                input: "LH \(key)\nRN \(key)\nDN \(key)\nRN \(key)\n", timeoutSeconds: 60)
            #expect(read.succeeded, "\(read)")
            #expect(read.standardOutput.contains("owner     "))
            #expect(read.standardOutput.contains("read 200000 bytes in 200 pieces, every hash checked"))
            #expect(try Data(contentsOf: folder.appendingPathComponent("data/read/payload.bin")) == original)
            #expect(read.standardOutput.contains("deleted 201 keys (manifest and pieces): "))
            #expect(read.standardOutput.contains("no data under \(key)"))
            // A file of one piece is one blob: its manifest holds it.
            let readSmall = try runTool(
                "drizzle", ["attach", "data/node-26500.sock"], cwd: folder, input: "RN \(smallKey)\nDN \(smallKey)\nRN \(smallKey)\n",
                timeoutSeconds: 60)
            #expect(readSmall.standardOutput.contains("read 3000 bytes in 1 piece, every hash checked"), "\(readSmall)")
            #expect(try Data(contentsOf: folder.appendingPathComponent("data/read/small.bin")) == small)
            #expect(readSmall.standardOutput.contains("deleted 1 key (a manifest holding its file): "))
            #expect(readSmall.standardOutput.contains("no data under \(smallKey)"))
        }
    }
}


/// Whether Python's pexpect is available to drive a pseudo-terminal.
let pexpectAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import pexpect"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

@Suite("drizzle prompt on a terminal")
struct TerminalPromptTests {
    @Test(
        "on a terminal the prompt has history and line editing",
        .enabled(if: pexpectAvailable, "needs python3 with pexpect to drive a pseudo-terminal"))
    func historyAndEditing() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 26400, size: 2)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", packageRoot.appendingPathComponent("scripts/check-prompt-tty").path,
                try builtExecutable("drizzle").path, folder.path,
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            process.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.contains("terminal: history and line editing work"))
        }
    }
}

/// A `drizzle` prompt running in the background, fed commands through a pipe; `stop` sends `X`.
struct BackgroundPrompt {
    let process = Process()
    let pipe = Pipe()

    init(in folder: URL, commands: String, arguments: [String] = []) throws {
        process.executableURL = try builtExecutable("drizzle")
        process.arguments = ["--config", "drizzle.yaml"] + arguments
        process.currentDirectoryURL = folder
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try pipe.fileHandleForWriting.write(contentsOf: Data(commands.utf8))
    }

    func stop() {
        try? pipe.fileHandleForWriting.write(contentsOf: Data("X\n".utf8))
        try? pipe.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
