import Foundation
import Testing

@Suite("drizzle-keys with damaged files")
struct DamagedFileTests {
    /// Ways a certificate file gets damaged.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedMagic = "flipped bytes in the header"
        case truncatedBase64 = "truncated base64"
        case invalidBase64 = "a character that is not base64"
        case missingEndLine = "the END line cut off"
        case empty = "an empty file"

        var testDescription: String { rawValue }

        func apply(to text: String) -> String {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            switch self {
            case .flippedMagic: lines[1] = "AAAA" + lines[1].dropFirst(4)
            case .truncatedBase64: lines[1] = String(lines[1].prefix(40))
            case .invalidBase64: lines[1] = "!" + lines[1].dropFirst()
            case .missingEndLine: lines = Array(lines.prefix(2))
            case .empty: lines = []
            }
            return lines.joined(separator: "\n")
        }
    }

    @Test("a damaged certificate is refused by verify and print with one line", arguments: Damage.allCases)
    func damagedCertificate(damage: Damage) async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "a", in: folder).succeeded)
            try write(damage.apply(to: try text(of: "keys/nodes/a.crt", in: folder)), to: "bad.crt", in: folder)
            for command in ["verify", "print"] {
                let run = try drizzleKeys(command, "bad.crt", in: folder)
                #expect(run.isOneLineRefusal, "\(run)")
                #expect(run.standardError.contains("bad.crt"), "\(run)")
            }
        }
    }

    @Test("a certificate whose signature was altered fails verify with 'bad signature'")
    func alteredSignature() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "a", in: folder).succeeded)
            let lines = try text(of: "keys/nodes/a.crt", in: folder).split(separator: "\n").map(String.init)
            var bytes = try #require(Data(base64Encoded: lines.dropFirst().dropLast().joined()))
            bytes[bytes.count - 1] ^= 0x01
            let body = bytes.base64EncodedString(options: .lineLength64Characters)
            let armored = "\(lines[0])\n\(body)\n\(lines[lines.count - 1])\n"
            try write(armored, to: "forged.crt", in: folder)
            let run = try drizzleKeys("verify", "forged.crt", in: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("bad signature"), "\(run)")
        }
    }

    @Test("a damaged revocation list stops verify and list with one line naming it")
    func damagedRevocationList() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "a", in: folder).succeeded)
            try write(
                Damage.flippedMagic.apply(to: try text(of: "keys/revoked.crl", in: folder)), to: "keys/revoked.crl",
                in: folder)
            for arguments in [["verify", "keys/nodes/a.crt"], ["list"]] {
                let run = try runTool("drizzle-keys", arguments, cwd: folder)
                #expect(run.isOneLineRefusal, "\(run)")
                #expect(run.standardError.contains("revoked.crl"), "\(run)")
            }
        }
    }

    @Test("list skips a stray or unreadable file in issued/ with one warning line and shows the rest")
    func strayIssuedFile() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "a", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "b", in: folder).succeeded)
            try write("notes about the nodes\n", to: "keys/issued/notes.crt", in: folder)
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent("keys/issued/zz.crt"), withIntermediateDirectories: false)

            let run = try drizzleKeys("list", in: folder)
            #expect(run.succeeded, "\(run)")
            #expect(run.outputLines.count == 3 && run.outputLines.dropFirst().allSatisfy { $0.hasSuffix("valid") }, "\(run)")
            #expect(run.errorLines.count == 1, "\(run)")
            #expect(run.errorLines.first?.hasPrefix("drizzle-keys: warning: skipped keys/issued/notes.crt") == true, "\(run)")
            #expect(run.standardError.contains("and 1 other file"), "\(run)")

            let json = try drizzleKeys("list", "--json", in: folder)
            #expect(json.succeeded, "\(json)")
            let rows = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: String]]
            #expect(rows?.map { $0["name"] } == ["a", "b"], "\(json)")
        }
    }
}
