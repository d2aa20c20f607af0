import Foundation
import Testing

/// The protocol core must stay sans-IO and deterministic: no clock, no unseeded randomness,
/// no sockets, no Foundation (DESIGN §1). This test fails the build when that slips.
@Suite("DrizzleCore stays free of I/O")
struct CorePurityTests {
    static let forbidden: [(pattern: String, why: String)] = [
        ("import Foundation", "the core must not depend on Foundation"),
        ("import NIO", "the core must not touch sockets"),
        ("import Glibc", "the core must not make system calls"),
        ("import Dispatch", "the core must not schedule work itself"),
        ("Date()", "time must be passed in as an Instant"),
        ("ContinuousClock", "time must be passed in as an Instant"),
        ("SystemRandomNumberGenerator", "randomness must be injected"),
        (".shuffled()", "use shuffled(using:) with the injected generator"),
        (".randomElement()", "use randomElement(using:) with the injected generator"),
    ]

    @Test("no core source file reads a clock, unseeded randomness, or the network")
    func noForbiddenCalls() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/DrizzleCore")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 5)
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for (pattern, why) in Self.forbidden {
                #expect(!text.contains(pattern), "\(file) contains \(pattern): \(why)")
            }
            for line in text.split(separator: "\n") where line.contains(".random(") {
                #expect(line.contains("using:"), "\(file): \(line) — randomness must be injected")
            }
        }
    }
}
