import Foundation
import Testing

@Suite("drizzle command line")
struct DrizzleCommandTests {
    @Test("drizzle config layers the file under flags and prints every setting")
    func configLayering() async throws {
        try await withScratchDirectory { folder in
            let file = folder.appendingPathComponent("my.yaml")
            try "net:\n  size: 7\ngossip:\n  fanout: 2\n".write(to: file, atomically: true, encoding: .utf8)
            let run = try runTool("drizzle", ["config", "--config", file.path, "--gossip-fanout", "4"], cwd: folder)
            #expect(run.succeeded, "\(run)")
            #expect(run.outputLines.contains("net.size: 7"))
            #expect(run.outputLines.contains("gossip.fanout: 4"))
            #expect(run.outputLines.contains("data.piece_size: 256"))
        }
    }

    @Test("a bad configuration value is one error line naming the key and the file, exit 1")
    func configErrors() async throws {
        try await withScratchDirectory { folder in
            let file = folder.appendingPathComponent("bad.yaml")
            try "gossip:\n  fanout: three\n".write(to: file, atomically: true, encoding: .utf8)
            let bad = try runTool("drizzle", ["config", "--config", file.path], cwd: folder)
            #expect(bad.status == 1)
            #expect(bad.errorLines.count == 1)
            #expect(bad.standardError.contains("bad.yaml") && bad.standardError.contains("gossip.fanout"))
            let missing = try runTool("drizzle", ["config", "--config", "absent.yaml"], cwd: folder)
            #expect(missing.status == 1 && missing.errorLines.count == 1 && missing.standardError.contains("absent.yaml"))
        }
    }

    @Test("drizzle sim rumor prints byte-identical output for the same seed")
    func simulationDeterminism() async throws {
        try await withScratchDirectory { folder in
            let arguments = [
                "sim", "rumor", "--nodes", "200", "--runs", "2", "--k", "1,2", "--no-crypto", "--seed", "5", "--out", "plots",
            ]
            let first = try runTool("drizzle", arguments, cwd: folder, timeoutSeconds: 120)
            let second = try runTool("drizzle", arguments, cwd: folder, timeoutSeconds: 120)
            #expect(first.succeeded && second.succeeded, "\(first)")
            #expect(first.standardOutput == second.standardOutput)
            #expect(first.standardOutput.contains("crypto: OFF"))
            let csv = try String(contentsOf: folder.appendingPathComponent("plots/rumor.csv"), encoding: .utf8)
            #expect(csv.hasPrefix("k,residue,traffic,t_ave,t_last,"))
            let svg = try String(contentsOf: folder.appendingPathComponent("plots/rumor.svg"), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        }
    }

    @Test("a wrong simulation option is one error line and exit 1")
    func simulationBadOption() async throws {
        try await withScratchDirectory { folder in
            let run = try runTool("drizzle", ["sim", "rumor", "--variant", "loud-coin"], cwd: folder)
            #expect(run.status == 1)
            #expect(run.errorLines == ["drizzle: error: unknown --variant 'loud-coin': use feedback-counter, blind-counter, feedback-coin or blind-coin"])
        }
    }
}
