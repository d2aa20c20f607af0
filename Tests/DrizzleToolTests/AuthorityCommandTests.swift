import Foundation
import Testing

@Suite("drizzle-keys ca")
struct AuthorityCommandTests {
    @Test("ca creates ca.key with mode 0600, ca.crt, the bundle and the revocation list")
    func createsAuthority() async throws {
        try await withScratchDirectory { folder in
            let run = try drizzleKeys("ca", in: folder)
            #expect(run.succeeded, "\(run)")
            #expect(try permissions("keys/ca.key", in: folder) == 0o600)
            for file in ["keys/ca.crt", "keys/bundle.crt", "keys/revoked.crl"] {
                #expect(exists(file, in: folder), "\(file) missing")
            }
            #expect(isHex(run.field("CA id"), count: 16), "\(run)")
            #expect(isISOTimestamp(run.field("not after")), "\(run)")
            let printed = try drizzleKeys("print", "keys/ca.crt", in: folder)
            #expect(printed.field("issuer id") == nil)
            #expect(printed.field("CA id (self-signed)") == run.field("CA id"))
            #expect(printed.field("name") == "drizzle-ca")
        }
    }

    @Test("a second ca is refused with one line and leaves the first CA in place")
    func secondAuthorityRefused() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let key = try text(of: "keys/ca.key", in: folder)
            let run = try drizzleKeys("ca", "--name", "other", in: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("already exists"))
            #expect(try text(of: "keys/ca.key", in: folder) == key)
        }
    }

    @Test("ca --rotate keeps the old CA's certificates valid until ca --retire makes them untrusted")
    func rotateAndRetire() async throws {
        try await withScratchDirectory { folder in
            let created = try drizzleKeys("ca", in: folder)
            let oldID = try #require(created.field("CA id"))
            try #require(try drizzleKeys("issue", "old", in: folder).succeeded)
            try FileManager.default.copyItem(
                at: folder.appendingPathComponent("keys/nodes/old.crt"), to: folder.appendingPathComponent("old.crt"))

            let rotated = try drizzleKeys("ca", "--rotate", in: folder)
            #expect(rotated.succeeded, "\(rotated)")
            let newID = try #require(rotated.field("new CA id"))
            #expect(isHex(newID, count: 16) && newID != oldID)
            #expect(rotated.standardOutput.contains("drizzle-keys ca --retire \(oldID)"))

            let bundle = try drizzleKeys("ca", "--list", in: folder)
            #expect(bundle.outputLines.count == 3, "\(bundle)")
            #expect(bundle.outputLines.contains { $0.hasPrefix(oldID) && $0.hasSuffix("no") }, "\(bundle)")
            #expect(bundle.outputLines.contains { $0.hasPrefix(newID) && $0.hasSuffix("yes") }, "\(bundle)")

            let stillTrusted = try drizzleKeys("verify", "old.crt", in: folder)
            #expect(stillTrusted.succeeded, "\(stillTrusted)")
            let issued = try drizzleKeys("issue", "new", in: folder)
            #expect(issued.succeeded, "\(issued)")
            #expect(try drizzleKeys("print", "keys/nodes/new.crt", in: folder).field("issuer id") == newID)
            let newVerified = try drizzleKeys("verify", "keys/nodes/new.crt", in: folder)
            #expect(newVerified.succeeded && newVerified.standardOutput.hasPrefix("OK: new serial "), "\(newVerified)")

            let current = try drizzleKeys("ca", "--retire", newID, in: folder)
            #expect(current.isOneLineRefusal, "retiring the current CA must be refused: \(current)")

            let retired = try drizzleKeys("ca", "--retire", oldID, in: folder)
            #expect(retired.succeeded, "\(retired)")
            let refused = try drizzleKeys("verify", "old.crt", in: folder)
            #expect(refused.isOneLineRefusal, "\(refused)")
            #expect(refused.standardError.contains("untrusted issuer"))
            #expect(refused.standardError.contains("not in the bundle"))
            #expect(try drizzleKeys("verify", "keys/nodes/new.crt", in: folder).succeeded)
            let list = try drizzleKeys("list", in: folder)
            #expect(list.outputLines.contains { $0.hasPrefix("old ") && $0.hasSuffix("untrusted") }, "\(list)")
            #expect(try drizzleKeys("ca", "--list", in: folder).outputLines.count == 2)
        }
    }

    @Test("conflicting ca modes are a usage error with exit status 64")
    func conflictingModes() async throws {
        try await withScratchDirectory { folder in
            let run = try drizzleKeys("ca", "--rotate", "--list", in: folder)
            #expect(run.status == 64, "\(run)")
        }
    }
}
