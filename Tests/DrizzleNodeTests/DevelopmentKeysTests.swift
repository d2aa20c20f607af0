import DrizzleCore
import DrizzleCrypto
import DrizzleNode
import Foundation
import Testing

/// A scratch folder, removed afterwards; `body` gets its path.
private func withFolder(_ body: (String) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drizzle-dev-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try body(folder)
}

private let day: Int64 = 86_400

private func wallNow() -> Int64 { Int64(Date().timeIntervalSince1970) }

private func certificate(_ path: String) throws -> Certificate { try KeyFiles.loadCertificate(path) }

@Suite("Development keys")
struct DevelopmentKeysTests {
    @Test("development keys outlast the expiry warning: node certificates a year, their CA ten years")
    func lifetimes() throws {
        try withFolder { folder in
            let store = KeyStore(directory: folder + "/keys")
            let lines = try DevelopmentKeys.ensure(["n1", "n2"], in: store.directory)
            #expect(lines.count == 2, "\(lines)")
            let now = wallNow()
            for name in ["n1", "n2"] {
                let left = try certificate(store.certificatePath(of: name)).notAfter - now
                #expect(left >= 364 * day && left <= 365 * day, "\(name): \(left / day) days")
            }
            #expect(try certificate(store.caCertificatePath).notAfter - now >= 3_649 * day)
            // A second start finds nothing to do.
            #expect(try DevelopmentKeys.ensure(["n1", "n2"], in: store.directory).isEmpty)
        }
    }

    @Test("a development CA and node certificates near or past expiry are renewed, saying so, and the nodes keep their ids")
    func renewal() throws {
        try withFolder { folder in
            let store = KeyStore(directory: folder + "/keys")
            let now = wallNow()
            // As the 30-day development keys of before: a CA with 25 days left, one node 20 days
            // from expiry, one expired 10 days ago.
            try store.createAuthority(name: "drizzle-dev-ca", durationSeconds: 365 * day, now: now - 340 * day)
            let soon = try store.issue(name: "soon", durationSeconds: 30 * day, now: now - 10 * day)
            let gone = try store.issue(name: "gone", durationSeconds: 30 * day, now: now - 40 * day)

            let lines = try DevelopmentKeys.ensure(["soon", "gone"], in: store.directory)
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("the development CA ") && $0.contains("made a new one") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("renewed 2 development node certificates") }, "\(lines)")
            #expect(!lines.contains { $0.contains("expire within") && $0.contains("drizzle-keys rotate") }, "\(lines)")

            let authority = try store.authority().certificate
            #expect(authority.name == "drizzle-dev-ca" && authority.notAfter - now >= 3_649 * day)
            #expect(try store.trustedAuthorities().count == 2)
            var trust = try store.trustStore()
            for (name, before) in [("soon", soon), ("gone", gone)] {
                let renewed = try certificate(store.certificatePath(of: name))
                #expect(renewed.issuer == authority.issuer)
                #expect(renewed.notAfter - now >= 364 * day)
                #expect(trust.admit(renewed, at: Instant(unixSeconds: now), suite: SodiumSuite()) == .success(before.nodeID))
                #expect(try store.identity(of: name).certificate == renewed)
            }
        }
    }

    @Test("an operator's CA and the certificates it issued are never replaced; their coming expiry is one line")
    func operatorKeysLeftAlone() throws {
        try withFolder { folder in
            let store = KeyStore(directory: folder + "/keys")
            let now = wallNow()
            try store.createAuthority(name: "drizzle-ca", durationSeconds: 40 * day, now: now - 20 * day)
            for (index, name) in ["a", "b", "c"].enumerated() {
                _ = try store.issue(name: name, durationSeconds: Int64(15 + index) * day + 43_200, now: now - 3 * day)
            }
            let paths = [store.caKeyPath, store.caCertificatePath, store.bundlePath, store.revocationListPath]
                + ["a", "b", "c"].flatMap { [store.keyPath(of: $0), store.certificatePath(of: $0)] }
            let before = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }

            let lines = try DevelopmentKeys.ensure(["a", "b", "c"], in: store.directory)
            #expect(lines == ["3 node certificates expire within 30 days (earliest a in 12 days): renew each on the CA host with `drizzle-keys rotate <name>`"])
            #expect(try paths.map { try String(contentsOfFile: $0, encoding: .utf8) } == before)
        }
    }

    @Test("a node host's folder (bundle, no CA key) never gets a CA of its own")
    func nodeHostFolder() throws {
        try withFolder { folder in
            let caHost = KeyStore(directory: folder + "/ca")
            let now = wallNow()
            try caHost.createAuthority(durationSeconds: 3_650 * day, now: now)
            _ = try caHost.issue(name: "n", durationSeconds: 365 * day, now: now)
            let nodeHost = KeyStore(directory: folder + "/node")
            try FileManager.default.createDirectory(atPath: nodeHost.directory + "/nodes", withIntermediateDirectories: true)
            for file in ["bundle.crt", "revoked.crl", "nodes/n.key", "nodes/n.crt"] {
                try FileManager.default.copyItem(atPath: caHost.directory + "/" + file, toPath: nodeHost.directory + "/" + file)
            }
            let bundle = try String(contentsOfFile: nodeHost.bundlePath, encoding: .utf8)

            #expect(try DevelopmentKeys.ensure(["n"], in: nodeHost.directory).isEmpty)
            // A name without a key cannot be issued here: the answer says where the CA key is.
            let failure = #expect(throws: KeyStore.Failure.self) { try DevelopmentKeys.ensure(["n", "m"], in: nodeHost.directory) }
            #expect(failure?.description.hasPrefix("\(nodeHost.caKeyPath) is missing") == true, "\(String(describing: failure))")
            #expect(!FileManager.default.fileExists(atPath: nodeHost.caKeyPath))
            #expect(try String(contentsOfFile: nodeHost.bundlePath, encoding: .utf8) == bundle)
        }
    }
}
