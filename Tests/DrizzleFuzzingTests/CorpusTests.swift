import DrizzleFuzzing
import Foundation
import Testing

/// The fuzz targets run as plain functions: the seeds they are given must reach deep (decode), and
/// every input in the committed corpus and every regression input a fuzzing run found must run
/// through without breaking a property or crashing.
@Suite struct CorpusTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        let folder = fuzzFolder.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: folder.appendingPathComponent(name))).map { (name, [UInt8]($0)) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsDecode(_ target: FuzzTarget) {
        let outcomes = target.seeds.map(target.run)
        #expect(!outcomes.isEmpty)
        #expect(!outcomes.contains { if case .broken = $0 { true } else { false } })
        switch target {
        case .envelope, .control:
            // Envelopes from the revoked node, and lone bad requests, are refused by design.
            #expect(outcomes.filter { $0 == .accepted }.count * 2 > outcomes.count)
        default:
            #expect(outcomes.allSatisfy { $0 == .accepted }, "\(target) refused one of its own seeds")
        }
    }

    @Test func everyMessageTypeIsSampled() {
        let types = Set(FuzzTarget.messages.seeds.compactMap(\.first))
        // Membership, gossip, size, ring, data, clock and bus frames all appear in the exchange.
        for type: UInt8 in [0x20, 0x10, 0x30, 0x40, 0x50, 0x60, 0x62] {
            #expect(types.contains { $0 >> 4 == type >> 4 }, "no frame of type \(type) family was recorded")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func committedCorpusAndRegressionsRunClean(_ target: FuzzTarget) {
        let corpus = Self.inputs("corpus", target)
        #expect(!corpus.isEmpty, "Fuzz/corpus/\(target.rawValue) is empty: run scripts/fuzz --seeds")
        for (name, bytes) in corpus + Self.inputs("regressions", target) {
            let outcome = target.run(bytes)
            if case .broken(let problem) = outcome {
                Issue.record("\(target.rawValue)/\(name): \(problem.prefix(300))")
            }
        }
    }

    @Test func tamperedEnvelopeIsRefused() {
        // An envelope as sent (mode 0: no signing by the harness) opens; one flipped byte does not.
        guard let sent = FuzzTarget.envelope.seeds.first(where: { $0.first == 0 }) else {
            Issue.record("no unsigned-mode envelope seed")
            return
        }
        #expect(FuzzTarget.envelope.run(sent) == .accepted)
        var damaged = sent
        damaged[damaged.count / 2] ^= 0x01
        #expect(FuzzTarget.envelope.run(damaged) == .rejected)
    }
}
