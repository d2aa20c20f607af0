import ArgumentParser
import DrizzleTerminal

/// `drizzle-keys`: the cluster's certificate authority on the command line. Every subcommand is a
/// thin shell over `KeyStore` (DrizzleCrypto): it parses arguments, makes one library call and
/// prints the result; errors are printed as one line by `exitWithError(_:)`.
@main
struct DrizzleKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle-keys",
        abstract: "Create and manage a BitDrizzle cluster's CA, node keys, certificates and revocations.",
        discussion: """
            Files live in the key folder (--keys-dir, default keys/): ca.key, ca.crt, bundle.crt, \
            revoked.crl, nodes/<name>.key|.crt, issued/<serial>.crt, authorities/. See docs/keys.md.
            """,
        subcommands: [
            Authority.self, Keygen.self, Issue.self, Rotate.self, Revoke.self, List.self, Print.self, Verify.self,
        ]
    )

    /// Makes standard output and error safe for a reader that goes away (`StandardStreams`).
    static func main() {
        StandardStreams.prepare()
        main(nil)
    }
}
