import Foundation
import Testing

@Suite("drizzle-keys certificate lifecycle")
struct LifecycleTests {
    @Test("issue, rotate (keeping the node id), revoke the old serial, revoke a name: list and verify follow every step")
    func fullCycle() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let a = try drizzleKeys("issue", "a", in: folder)
            try #require(a.succeeded)
            let oldSerial = try #require(a.field("serial"))
            try #require(try drizzleKeys("issue", "b", in: folder).succeeded)

            let rotated = try drizzleKeys("rotate", "a", in: folder)
            #expect(rotated.succeeded, "\(rotated)")
            let newSerial = try #require(rotated.field("new serial"))
            #expect(isHex(newSerial, count: 16) && newSerial != oldSerial)
            #expect(rotated.field("old serial")?.hasPrefix(oldSerial) == true)
            #expect(rotated.standardOutput.contains("drizzle-keys revoke \(oldSerial)"))
            #expect(try serial(of: "keys/nodes/a.crt", in: folder) == newSerial)
            // A new key, the same node: the id (ring position, membership) survives the rotation.
            let id = try #require(a.field("node id"))
            #expect(rotated.field("node id") == id, "\(rotated)")
            #expect(try drizzleKeys("print", "keys/nodes/a.crt", in: folder).field("node id") == id)

            let afterRotation = try drizzleKeys("list", in: folder)
            #expect(status(of: oldSerial, in: afterRotation) == "valid", "\(afterRotation)")
            #expect(status(of: newSerial, in: afterRotation) == "valid", "\(afterRotation)")

            let revoked = try drizzleKeys("revoke", oldSerial, in: folder)
            #expect(revoked.succeeded, "\(revoked)")
            #expect(revoked.standardOutput.contains("Revoked a serial \(oldSerial)"))
            #expect(revoked.field("revocation list")?.hasSuffix("version 2") == true, "\(revoked)")

            let oldVerified = try drizzleKeys("verify", "keys/issued/\(oldSerial).crt", in: folder)
            #expect(oldVerified.isOneLineRefusal, "\(oldVerified)")
            #expect(oldVerified.standardError.contains("revoked"))
            #expect(oldVerified.standardOutput.isEmpty)
            let newVerified = try drizzleKeys("verify", "keys/nodes/a.crt", in: folder)
            #expect(newVerified.succeeded, "\(newVerified)")
            #expect(newVerified.standardOutput.hasPrefix("OK: a serial \(newSerial) valid until "), "\(newVerified)")

            let revokeB = try drizzleKeys("revoke", "b", in: folder)
            #expect(revokeB.succeeded, "\(revokeB)")
            #expect(revokeB.field("revocation list")?.hasSuffix("version 3") == true, "\(revokeB)")
            let list = try drizzleKeys("list", in: folder)
            #expect(list.outputLines.first?.hasPrefix("NAME") == true)
            #expect(list.outputLines.contains { $0.hasPrefix("b ") && $0.hasSuffix("revoked") }, "\(list)")
            #expect(status(of: oldSerial, in: list) == "revoked")
            #expect(status(of: newSerial, in: list) == "valid")

            let crl = try drizzleKeys("print", "keys/revoked.crl", in: folder)
            #expect(crl.field("version") == "3")
            #expect(crl.field("revoked keys") == "1", "revoking by name also revokes the key: \(crl)")

            let unknown = try drizzleKeys("revoke", "nobody", in: folder)
            #expect(unknown.isOneLineRefusal, "\(unknown)")
        }
    }

    @Test("list --json is an array of objects with name, serial, node_id, not_after and status")
    func listJSON() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let empty = try drizzleKeys("list", "--json", in: folder)
            #expect(try JSONSerialization.jsonObject(with: Data(empty.standardOutput.utf8)) as? [Any] != nil)
            let a = try drizzleKeys("issue", "a", in: folder)
            try #require(try drizzleKeys("issue", "b", "--duration", "10d", in: folder).succeeded)
            let run = try drizzleKeys("list", "--json", in: folder)
            #expect(run.succeeded, "\(run)")
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: String]])
            #expect(rows.count == 2)
            for row in rows {
                #expect(Set(row.keys) == ["name", "serial", "node_id", "not_after", "status"])
                #expect(isHex(row["serial"], count: 16) && isHex(row["node_id"], count: 32))
                #expect(isISOTimestamp(row["not_after"]))
            }
            let rowA = try #require(rows.first { $0["name"] == "a" })
            #expect(rowA["serial"] == a.field("serial") && rowA["node_id"] == a.field("node id"))
            #expect(rowA["status"] == "valid")
            #expect(rows.first { $0["name"] == "b" }?["status"] == "expiring")
        }
    }

    @Test("an expired certificate fails verify with 'expired' and lists as expired")
    func expiredCertificate() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "x", "--duration", "1s", in: folder).succeeded)
            try await Task.sleep(for: .seconds(2.2))
            let run = try drizzleKeys("verify", "keys/nodes/x.crt", in: folder)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("expired"))
            let list = try drizzleKeys("list", in: folder)
            #expect(list.outputLines.contains { $0.hasPrefix("x ") && $0.hasSuffix("expired") }, "\(list)")
        }
    }

    /// The status column of the `list` row with `serial`.
    private func status(of serial: String, in list: ToolRun) -> String? {
        list.outputLines.first { $0.contains(serial) }?.split(separator: " ").last.map(String.init)
    }

    @Test("revoking what is already revoked says so, keeps the list's version and exits 0")
    func revokeTwice() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", in: folder).succeeded)
            let a = try drizzleKeys("issue", "a", in: folder)
            let serial = try #require(a.field("serial"))
            func listVersion() throws -> String? { try drizzleKeys("print", "keys/revoked.crl", in: folder).field("version") }
            try #require(try drizzleKeys("revoke", serial, in: folder).succeeded)
            #expect(try listVersion() == "2")
            let list = try text(of: "keys/revoked.crl", in: folder)

            let again = try drizzleKeys("revoke", serial, in: folder)
            #expect(again.succeeded, "\(again)")
            #expect(again.standardOutput.contains("Already revoked: a serial \(serial)"), "\(again)")
            #expect(again.standardOutput.contains("keys/revoked.crl stays at version 2"), "\(again)")
            #expect(!again.standardOutput.contains("Revoked"), "\(again)")
            #expect(try text(of: "keys/revoked.crl", in: folder) == list)

            // By name, the key is new to the list: one more version; a second time, none.
            let byName = try drizzleKeys("revoke", "a", in: folder)
            #expect(byName.succeeded && byName.field("revocation list") == "keys/revoked.crl version 3", "\(byName)")
            let byNameAgain = try drizzleKeys("revoke", "a", in: folder)
            #expect(byNameAgain.succeeded, "\(byNameAgain)")
            #expect(byNameAgain.standardOutput.contains("stays at version 3"), "\(byNameAgain)")
            #expect(try listVersion() == "3")
        }
    }
}
