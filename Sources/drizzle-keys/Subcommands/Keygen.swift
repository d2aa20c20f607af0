import ArgumentParser
import DrizzleCore
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys keygen`: a node makes its own key pair, so its secret key never leaves its host.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a node key pair on the node itself.",
            discussion: """
                Writes the secret key (mode 0600) and the public key. Give only the public key to the CA \
                host: drizzle-keys issue <name> --public-key <file>.
                """)

        @Option(name: .customLong("out-key"), help: ArgumentHelp("Where to write the secret key.", valueName: "file"))
        var keyPath: String

        @Option(name: .customLong("out-pub"), help: ArgumentHelp("Where to write the public key.", valueName: "file"))
        var publicKeyPath: String

        @Flag(help: "Overwrite existing files.")
        var force = false

        func validate() throws {
            guard keyPath != publicKeyPath else { throw ValidationError("--out-key and --out-pub must differ.") }
        }

        func run() throws {
            if !force {
                for path in [keyPath, publicKeyPath] where SecureFile.exists(path) {
                    try exitWithError(SecureFile.Failure.exists(path).description)
                }
            }
            let key = SigningKey.generate()
            try orExit {
                try KeyFiles.saveSecretKey(key, to: keyPath, replace: force)
                try KeyFiles.savePublicKey(key.publicKey, to: publicKeyPath, replace: force)
            }
            say("Generated a node key pair")
            say(
                fieldsText([
                    ("node id", SodiumSuite().nodeID(of: key.publicKey).description),
                    ("secret key", "\(keyPath) (mode 0600: never copy it off this host)"),
                    (
                        "public key",
                        "\(publicKeyPath) (give it to the CA: drizzle-keys issue <name> --public-key <file>)"
                    ),
                ]))
        }
    }
}
