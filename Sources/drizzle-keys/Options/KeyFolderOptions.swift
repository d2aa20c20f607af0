import ArgumentParser
import DrizzleCrypto

/// The options every subcommand that works on a key folder shares.
struct KeyFolderOptions: ParsableArguments {
    @Option(
        name: .customLong("keys-dir"),
        help: ArgumentHelp("The key folder holding the CA, bundle, revocation list and node files.", valueName: "dir"))
    var keysDirectory = "keys/"

    func validate() throws {
        guard !keysDirectory.isEmpty else { throw ValidationError("--keys-dir must name a folder.") }
    }

    /// The key folder the options name.
    var store: KeyStore { KeyStore(directory: keysDirectory) }
}
