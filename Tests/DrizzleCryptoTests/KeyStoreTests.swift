import DrizzleCore
import DrizzleCrypto
import Foundation
import Testing

/// A fresh key folder under the temporary directory, removed afterwards.
func withKeyFolder(_ body: (KeyStore, String) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drizzle-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try body(KeyStore(directory: folder + "/keys"), folder)
}

let now: Int64 = 1_767_225_600
let year: Int64 = 365 * 86_400

@Suite("Key store")
struct KeyStoreTests {
    @Test("armored blocks survive encode and decode, several to a file")
    func armor() throws {
        let text = Armor.encode([1, 2, 3], label: .publicKey) + "comment\n" + Armor.encode(Array(0..<200), label: .certificate)
        let blocks = try Armor.decode(text)
        #expect(blocks == [Armor.Block(label: .publicKey, bytes: [1, 2, 3]), Armor.Block(label: .certificate, bytes: Array(0..<200))])
        #expect(throws: Armor.DecodingError.noBlock) { try Armor.decode("nothing here") }
        #expect(throws: Armor.DecodingError.unterminated("CERTIFICATE")) {
            try Armor.decode("-----BEGIN DRIZZLE CERTIFICATE-----\nAAAA\n")
        }
        #expect(throws: Armor.DecodingError.badBase64("CERTIFICATE")) {
            try Armor.decode("-----BEGIN DRIZZLE CERTIFICATE-----\n@@@\n-----END DRIZZLE CERTIFICATE-----\n")
        }
    }

    @Test("a secret key file is written 0600 and refused once group or others can read it")
    func secretKeyMode() throws {
        try withKeyFolder { _, folder in
            let path = folder + "/node.key"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let key = SigningKey.generate()
            try KeyFiles.saveSecretKey(key, to: path, replace: false)
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
            #expect(try KeyFiles.loadSecretKey(path).publicKey == key.publicKey)
            #expect(throws: KeyFiles.Failure.file(.exists(path))) {
                try KeyFiles.saveSecretKey(key, to: path, replace: false)
            }
            chmod(path, 0o640)
            #expect(throws: KeyFiles.Failure.file(.insecureMode(path, mode: 0o100640))) {
                try KeyFiles.loadSecretKey(path)
            }
        }
    }

    @Test("a secret key whose public half does not match its seed is refused as damaged")
    func damagedSecretKey() throws {
        try withKeyFolder { _, folder in
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = folder + "/bad.key"
            let key = SigningKey.generate()
            var bytes = key.seed + key.publicKey.bytes
            bytes[40] ^= 1
            try SecureFile.write(Armor.encode(bytes, label: .secretKey), to: path, mode: 0o600, replace: false)
            #expect(throws: KeyFiles.Failure.damaged(path, reason: "the public key does not match the secret seed")) {
                try KeyFiles.loadSecretKey(path)
            }
        }
    }

    @Test("issue refuses empty or too many addresses instead of writing an unreadable certificate")
    func addressChecks() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 10 * year, now: now)
            #expect(throws: KeyStore.Failure.self) { try store.issue(name: "a", durationSeconds: year, addresses: ["a:1", ""], now: now) }
            let many = (0..<17).map { "10.0.0.\($0):1" }
            #expect(throws: KeyStore.Failure.self) { try store.issue(name: "a", durationSeconds: year, addresses: many, now: now) }
            _ = try store.issue(name: "a", durationSeconds: year, addresses: ["127.0.0.1:40000"], now: now)
            #expect(try store.inventory(now: now).entries.map(\.certificate.addresses) == [["127.0.0.1:40000"]])
        }
    }

    @Test("issue refuses to sign with an expired CA")
    func expiredAuthority() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 60, now: now)
            #expect(throws: KeyStore.Failure.self) { try store.issue(name: "a", durationSeconds: year, now: now + 120) }
        }
    }

    @Test("revoking a node whose name looks like a serial revokes its keys too")
    func revokeHexName() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 10 * year, now: now)
            let issued = try store.issue(name: "DEADBEEFDEADBEEF", durationSeconds: year, now: now)
            let revocation = try store.revoke("DEADBEEFDEADBEEF", now: now)
            #expect(revocation.revoked.map(\.serial) == [issued.certificate.serial])
            #expect(revocation.list.publicKeys.contains(issued.certificate.publicKey))
            #expect(revocation.list.version == 2)
        }
    }

    @Test("a node loads its identity and a trust store that admits its certificate")
    func identityAndTrust() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 10 * year, now: now)
            let issued = try store.issue(name: "n1", durationSeconds: year, now: now)
            let identity = try store.identity(of: "n1")
            #expect(identity.certificate == issued.certificate)
            var trust = try store.trustStore()
            #expect(trust.admit(identity.certificate, at: Instant(unixSeconds: now + 1), suite: SodiumSuite()) == .success(issued.nodeID))
        }
    }

    @Test("revoking what the list already holds writes nothing and reports it as already revoked")
    func revokeAgain() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 10 * year, now: now)
            let issued = try store.issue(name: "a", durationSeconds: year, now: now)
            let serial = KeyStore.serialText(issued.certificate.serial)
            #expect(try store.revoke(serial, now: now).changed)
            let again = try store.revoke(serial, now: now + 1)
            #expect(!again.changed && again.revoked.isEmpty)
            #expect(again.alreadyRevoked.map(\.serial) == [issued.certificate.serial])
            #expect(again.list.version == 2)
            #expect(try store.revocationList().issuedAt == now)
        }
    }

    @Test("the inventory skips a file under issued/ that is not a certificate and names it")
    func strayIssuedFile() throws {
        try withKeyFolder { store, _ in
            try store.createAuthority(durationSeconds: 10 * year, now: now)
            _ = try store.issue(name: "a", durationSeconds: year, now: now)
            try SecureFile.write("not a certificate\n", to: store.directory + "/issued/notes.crt", mode: 0o644, replace: false)
            let inventory = try store.inventory(now: now)
            #expect(inventory.entries.map(\.certificate.name) == ["a"])
            #expect(inventory.unreadable.map(\.description).first?.hasPrefix(store.directory + "/issued/notes.crt") == true)
        }
    }

    @Test(
        "node names must start with a letter or digit and stay within A-Z a-z 0-9 . _ -",
        arguments: [
            (".", "starts with '.'"), ("..", "starts with '.'"), ("-x", "starts with '-'"), ("", "is empty"),
            ("a/b", "contains '/'"), ("a b", "contains a space"), ("a\u{7}", "contains U+0007"),
            ("r\u{E9}sum\u{E9}", "contains '\u{E9}' (U+00E9)"), (String(repeating: "n", count: 65), "has 65 characters"),
            ("ca", "is kept for the CA"), ("node-1", nil), ("A.b_c-9", nil),
        ])
    func nodeNames(name: String, problem: String?) {
        #expect(KeyStore.nodeNameProblem(name) == problem)
    }
}
