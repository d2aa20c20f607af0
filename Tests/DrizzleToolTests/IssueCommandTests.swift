import DrizzleCrypto
import Foundation
import Testing

@Suite("drizzle-keys issue and keygen")
struct IssueCommandTests {
    @Test("issue writes nodes/<name>.key with mode 0600 and nodes/<name>.crt and prints the expiry")
    func issueWritesFiles() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let before = Int64(Date().timeIntervalSince1970)
            let run = try drizzleKeys("issue", "node-a", "--addresses", "10.0.0.1:7946,[::1]:7946", in: folder)
            #expect(run.succeeded, "\(run)")
            #expect(try permissions("keys/nodes/node-a.key", in: folder) == 0o600)
            #expect(exists("keys/nodes/node-a.crt", in: folder))
            #expect(run.field("name") == "node-a")
            #expect(isHex(run.field("serial"), count: 16), "\(run)")
            #expect(isHex(run.field("node id"), count: 32), "\(run)")
            #expect(isISOTimestamp(run.field("not after")), "\(run)")
            let expiry = try #require(unixSeconds(run.field("not after")))
            #expect(abs(expiry - (before + 8_760 * 3_600)) <= 5)
            let serial = try #require(run.field("serial"))
            #expect(exists("keys/issued/\(serial).crt", in: folder))
            let printed = try drizzleKeys("print", "keys/nodes/node-a.crt", in: folder)
            #expect(printed.field("addresses") == "10.0.0.1:7946, [::1]:7946", "\(printed)")
            #expect(printed.field("node id") == run.field("node id"))
        }
    }

    @Test("issuing an existing name is refused with one line; --force overwrites it")
    func existingNameNeedsForce() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let first = try drizzleKeys("issue", "a", in: folder)
            try #require(first.succeeded)
            let key = try text(of: "keys/nodes/a.key", in: folder)
            let again = try drizzleKeys("issue", "a", in: folder)
            #expect(again.isOneLineRefusal, "\(again)")
            #expect(again.standardError.contains("--force"))
            #expect(try text(of: "keys/nodes/a.key", in: folder) == key)
            let forced = try drizzleKeys("issue", "a", "--force", in: folder)
            #expect(forced.succeeded, "\(forced)")
            #expect(forced.field("serial") != first.field("serial"))
            #expect(try text(of: "keys/nodes/a.key", in: folder) != key)
            #expect(try permissions("keys/nodes/a.key", in: folder) == 0o600)
        }
    }

    @Test("issue without a CA is refused with one line")
    func issueWithoutAuthority() async throws {
        try await withScratchDirectory { folder in
            let run = try drizzleKeys("issue", "a", in: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("no CA"))
            #expect(!exists("keys/nodes/a.key", in: folder))
        }
    }

    @Test("a secret key readable by group or others is refused with a chmod 600 hint naming the file")
    func insecureKeyRefused() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "a", in: folder).succeeded)
            try setPermissions(0o644, of: "keys/ca.key", in: folder)
            let issue = try drizzleKeys("issue", "b", in: folder)
            #expect(issue.isOneLineRefusal, "\(issue)")
            #expect(issue.standardError.contains("chmod 600 keys/ca.key"), "\(issue)")
            try setPermissions(0o600, of: "keys/ca.key", in: folder)
            try setPermissions(0o640, of: "keys/nodes/a.key", in: folder)
            let print = try drizzleKeys("print", "keys/nodes/a.key", in: folder)
            #expect(print.isOneLineRefusal, "\(print)")
            #expect(print.standardError.contains("chmod 600 keys/nodes/a.key"), "\(print)")
        }
    }

    @Test("keygen then issue --public-key certifies the node's own key and keeps its secret out of keys/")
    func keygenAndSignPublicKey() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let keygen = try drizzleKeys("keygen", "--out-key", "n.key", "--out-pub", "n.pub", in: folder)
            #expect(keygen.succeeded, "\(keygen)")
            #expect(try permissions("n.key", in: folder) == 0o600)
            let again = try drizzleKeys("keygen", "--out-key", "n.key", "--out-pub", "n.pub", in: folder)
            #expect(again.isOneLineRefusal, "keygen must not overwrite without --force: \(again)")

            let issued = try drizzleKeys("issue", "n", "--public-key", "n.pub", in: folder)
            #expect(issued.succeeded, "\(issued)")
            #expect(!exists("keys/nodes/n.key", in: folder))

            let key = try KeyFiles.loadSecretKey(folder.appendingPathComponent("n.key").path)
            let certificate = try KeyFiles.loadCertificate(folder.appendingPathComponent("keys/nodes/n.crt").path)
            #expect(certificate.publicKey == key.publicKey)
            let nodeID = SodiumSuite().nodeID(of: key.publicKey).description
            #expect(issued.field("node id") == nodeID)
            #expect(keygen.field("node id") == nodeID)
            #expect(try drizzleKeys("verify", "keys/nodes/n.crt", in: folder).succeeded)

            let files = FileManager.default.enumerator(atPath: folder.appendingPathComponent("keys").path)
            let secretFiles = (files?.allObjects as? [String] ?? []).filter { path in
                (try? text(of: "keys/\(path)", in: folder))?.contains("SECRET KEY") == true
            }
            #expect(secretFiles == ["ca.key"])
        }
    }

    @Test("print shows a secret key file only by its public key and node id")
    func printSecretKey() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("keygen", "--out-key", "n.key", "--out-pub", "n.pub", in: folder).succeeded)
            let run = try drizzleKeys("print", "n.key", "--json", in: folder)
            #expect(run.succeeded, "\(run)")
            let key = try KeyFiles.loadSecretKey(folder.appendingPathComponent("n.key").path)
            let json = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: String]]
            #expect(json?.first?["type"] == "secret_key")
            #expect(json?.first?["public_key"] == key.publicKey.description)
            #expect(json?.first?["node_id"] == SodiumSuite().nodeID(of: key.publicKey).description)
            let seedHex = key.seed.map { String(format: "%02X", $0) }.joined()
            let armored = try text(of: "n.key", in: folder).split(separator: "\n").dropFirst().first.map(String.init)
            #expect(!run.standardOutput.uppercased().contains(seedHex))
            #expect(!run.standardOutput.contains(try #require(armored)))
        }
    }

    @Test(
        "durations combine units: 1h30m, 90d, 30m and 45s set the certificate's lifetime",
        arguments: [
            ("1h30m", Int64(5_400)), ("90d", 7_776_000), ("30m", 1_800), ("45s", 45), ("2d12h", 216_000),
        ])
    func durations(text: String, seconds: Int64) async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let run = try drizzleKeys("issue", "a", "--duration", text, in: folder)
            #expect(run.succeeded, "\(run)")
            let certificate = try KeyFiles.loadCertificate(folder.appendingPathComponent("keys/nodes/a.crt").path)
            #expect(certificate.notAfter - certificate.notBefore == seconds)
        }
    }

    @Test(
        "a bad duration string gives a one-line error",
        arguments: ["5x", "1h30", "0s", "h", "1.5h", "90 d", "", "9999999999999999999d"])
    func badDuration(text: String) async throws {
        try await withScratchDirectory { folder in
            let run = try drizzleKeys("ca", "--duration", text, in: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("invalid duration"), "\(run)")
            #expect(!exists("keys/ca.key", in: folder))
        }
    }

    @Test("issue says when the duration was cut to the CA's expiry")
    func clampedToAuthority() async throws {
        try await withScratchDirectory { folder in
            let ca = try drizzleKeys("ca", "--duration", "1h", in: folder)
            try #require(ca.succeeded)
            let run = try drizzleKeys("issue", "a", in: folder)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("cut to the CA's expiry"), "\(run)")
            #expect(run.field("not after") == ca.field("not after"))
        }
    }

    @Test("a malformed --addresses list is refused with one line")
    func badAddresses() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            for list in ["a:1,,b:2", "no-port", "host:99999"] {
                let run = try drizzleKeys("issue", "a", "--addresses", list, in: folder)
                #expect(run.isOneLineRefusal, "\(run)")
            }
            #expect(!exists("keys/nodes/a.crt", in: folder))
        }
    }

    @Test(
        "issue refuses a name that is no plain file name or reads as an option, with one line naming the rule, and writes nothing",
        arguments: [
            ".", "..", ".hidden", "-x", "--force", "_x", "a/b", "../a", "", "a b", "a\u{1B}[31mb", "a\nb", "r\u{E9}sum\u{E9}",
            String(repeating: "n", count: 65), "ca",
        ])
    func refusedName(name: String) async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let run = try runTool("drizzle-keys", ["issue", "--", name], cwd: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(
                run.standardError.contains("a name is 1 to 64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit"),
                "\(run)")
            let files = { (path: String) in
                (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(path).path)) ?? []
            }
            #expect(files("keys/nodes").isEmpty && files("keys/issued").isEmpty, "\(files("keys/nodes"))")
        }
    }

    @Test("issue takes names of ASCII letters, digits and . _ - that start with a letter or digit, up to 64 characters")
    func acceptedNames() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            for name in ["n", "9", "node-1", "Node_2.eu-west", String(repeating: "n", count: 64)] {
                let run = try drizzleKeys("issue", name, in: folder)
                #expect(run.succeeded, "\(run)")
                #expect(exists("keys/nodes/\(name).key", in: folder))
            }
        }
    }
}
