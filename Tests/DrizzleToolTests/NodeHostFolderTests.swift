import Foundation
import Testing

/// A node host's key folder as docs/keys.md describes it: a CA made in `ca/keys`, node `n`
/// issued there, and `node/keys` holding the node's key and certificate plus the CA host's files
/// in `copied` (`bundle.crt`, `revoked.crl`).
private func makeNodeHost(in folder: URL, copying copied: [String]) throws -> URL {
    let caHost = folder.appendingPathComponent("ca")
    let nodeHost = folder.appendingPathComponent("node")
    for host in [caHost, nodeHost] {
        try FileManager.default.createDirectory(at: host.appendingPathComponent("keys/nodes"), withIntermediateDirectories: true)
    }
    try #require(try drizzleKeys("ca", in: caHost).succeeded)
    try #require(try drizzleKeys("issue", "n", in: caHost).succeeded)
    for file in copied + ["nodes/n.key", "nodes/n.crt"] {
        try FileManager.default.copyItem(
            at: caHost.appendingPathComponent("keys/\(file)"), to: nodeHost.appendingPathComponent("keys/\(file)"))
    }
    return nodeHost
}

@Suite("drizzle-keys and drizzle agent on a node host")
struct NodeHostFolderTests {
    @Test("without bundle.crt, verify, list and agent name the missing file and say it comes from the CA host")
    func missingBundle() async throws {
        try await withScratchDirectory { folder in
            let host = try makeNodeHost(in: folder, copying: ["revoked.crl"])
            let runs = [
                try drizzleKeys("verify", "keys/nodes/n.crt", in: host),
                try drizzleKeys("list", in: host),
                try runTool("drizzle", ["agent", "--name", "n", "--bind", "127.0.0.1:0"], cwd: host),
            ]
            for run in runs {
                #expect(!run.succeeded && run.errorLines.count == 1, "\(run)")
                #expect(run.standardError.contains("keys/bundle.crt is missing"), "\(run)")
                #expect(run.standardError.contains("copy bundle.crt from the CA host's key folder"), "\(run)")
                // Making a CA here would split the cluster: the answer must not suggest it.
                #expect(!run.standardError.contains("drizzle-keys ca"), "\(run)")
            }
        }
    }

    @Test("without revoked.crl, verify names that file and where it comes from")
    func missingRevocationList() async throws {
        try await withScratchDirectory { folder in
            let host = try makeNodeHost(in: folder, copying: ["bundle.crt"])
            let run = try drizzleKeys("verify", "keys/nodes/n.crt", in: host)
            #expect(run.isOneLineRefusal, "\(run)")
            #expect(run.standardError.contains("keys/revoked.crl is missing"), "\(run)")
            #expect(run.standardError.contains("copy revoked.crl from the CA host's key folder"), "\(run)")
        }
    }

    @Test("with the CA host's files but not its key, issue says the CA key is elsewhere and ca refuses a second CA")
    func noAuthorityKey() async throws {
        try await withScratchDirectory { folder in
            let host = try makeNodeHost(in: folder, copying: ["bundle.crt", "revoked.crl"])
            #expect(try drizzleKeys("verify", "keys/nodes/n.crt", in: host).succeeded)
            let issue = try drizzleKeys("issue", "m", in: host)
            #expect(issue.isOneLineRefusal, "\(issue)")
            #expect(issue.standardError.contains("keys/ca.key is missing"), "\(issue)")
            #expect(issue.standardError.contains("run them on the CA host"), "\(issue)")
            let bundle = try text(of: "keys/bundle.crt", in: host)
            let second = try drizzleKeys("ca", in: host)
            #expect(second.isOneLineRefusal, "\(second)")
            #expect(second.standardError.contains("keys/bundle.crt exists without ca.key"), "\(second)")
            #expect(!exists("keys/ca.key", in: host))
            #expect(try text(of: "keys/bundle.crt", in: host) == bundle)
        }
    }

    @Test("an empty folder is told both ways out: make a CA on the CA host, copy its files to a node host")
    func emptyFolder() async throws {
        try await withScratchDirectory { folder in
            try #require(try drizzleKeys("ca", "--keys-dir", "ca", in: folder).succeeded)
            try #require(try drizzleKeys("issue", "n", "--keys-dir", "ca", in: folder).succeeded)
            let verify = try drizzleKeys("verify", "ca/nodes/n.crt", in: folder)
            #expect(verify.isOneLineRefusal, "\(verify)")
            #expect(verify.standardError.contains("no CA in keys (no ca.key or bundle.crt)"), "\(verify)")
            #expect(verify.standardError.contains("on the CA host, run `drizzle-keys ca` first"), "\(verify)")
            #expect(verify.standardError.contains("on a node host, copy bundle.crt and revoked.crl"), "\(verify)")
        }
    }
}
