import ArgumentParser
import DrizzleCore
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys ca`: create, rotate, retire or list the cluster's certificate authorities.
    struct Authority: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca",
            abstract: "Create the cluster CA, or rotate, retire or list the trusted CAs.",
            discussion: """
                Without a mode flag, creates ca.key (0600), ca.crt, bundle.crt and an empty revoked.crl. \
                --rotate makes a new current CA while the old one stays in the bundle (its certificates \
                stay valid) until --retire <old id>.
                """)

        @OptionGroup var options: KeyFolderOptions

        @Option(help: "The CA's name (when creating; default drizzle-ca).")
        var name: String?

        @Option(help: "How long the CA is valid: e.g. 87600h, 3650d, 1h30m.")
        var duration = "87600h"

        @Flag(help: "Make a new current CA; the old one stays trusted until retired.")
        var rotate = false

        @Option(help: ArgumentHelp("Remove an earlier CA from the bundle.", valueName: "id"))
        var retire: String?

        @Flag(help: "List the CAs in the trust bundle.")
        var list = false

        func validate() throws {
            let modes = [rotate, retire != nil, list].filter { $0 }.count
            guard modes <= 1 else { throw ValidationError("Use only one of --rotate, --retire and --list.") }
            if name != nil, modes > 0 { throw ValidationError("--name applies only when creating the CA.") }
        }

        func run() throws {
            let store = options.store
            if list {
                try printBundle(store)
            } else if let retire {
                try retireAuthority(retire, store)
            } else if rotate {
                try rotateAuthority(store)
            } else {
                try createAuthority(store)
            }
        }

        private func createAuthority(_ store: KeyStore) throws {
            let seconds = try orExit { try Lifetime(parsing: duration).seconds }
            let now = unixNow()
            let certificate = try orExit {
                try store.createAuthority(name: name ?? "drizzle-ca", durationSeconds: seconds, now: now)
            }
            say("Created CA \(certificate.name)")
            say(
                fieldsText([
                    ("CA id", certificate.issuer.description),
                    ("not after", isoText(certificate.notAfter)),
                    ("secret key", "\(store.caKeyPath) (mode 0600: keep it on this host only)"),
                    ("certificate", store.caCertificatePath),
                    ("bundle", "\(store.bundlePath) (copy to every node)"),
                    ("revocations", "\(store.revocationListPath) (version 1, empty)"),
                ]))
        }

        private func rotateAuthority(_ store: KeyStore) throws {
            let seconds = try orExit { try Lifetime(parsing: duration).seconds }
            let now = unixNow()
            let (current, previous) = try orExit { try store.rotateAuthority(durationSeconds: seconds, now: now) }
            let list = try orExit { try store.revocationList() }
            say("Rotated CA \(current.name)")
            say(
                fieldsText([
                    ("new CA id", current.issuer.description),
                    ("not after", isoText(current.notAfter)),
                    ("old CA id", "\(previous.issuer) (stays trusted until retired)"),
                    ("bundle", "\(store.bundlePath) (both CAs; copy to every node)"),
                    ("revocations", "\(store.revocationListPath) (version \(list.version), now signed by the new CA)"),
                ]))
            say(
                "Certificates issued by \(previous.issuer) stay valid; reissue them with `drizzle-keys rotate <name>`,")
            say("then run `drizzle-keys ca --retire \(previous.issuer)`.")
        }

        private func retireAuthority(_ id: String, _ store: KeyStore) throws {
            let retired = try orExit { try store.retireAuthority(id) }
            let remaining = try orExit { try store.trustedAuthorities() }
            say("Retired CA \(retired.issuer) (\(retired.name)): certificates it issued are no longer trusted.")
            say(
                fieldsText([
                    ("bundle", "\(store.bundlePath) (\(counted(remaining.count, "CA")); copy to every node)")
                ]))
        }

        private func printBundle(_ store: KeyStore) throws {
            let bundle = try orExit { try store.trustedAuthorities() }
            let current = try orExit { try KeyFiles.loadCertificate(store.caCertificatePath) }
            let rows = bundle.map { certificate in
                [
                    certificate.issuer.description, certificate.name, isoText(certificate.notAfter),
                    certificate.issuer == current.issuer ? "yes" : "no",
                ]
            }
            say(tableText(header: ["ID", "NAME", "NOT AFTER", "CURRENT"], rows: rows))
        }
    }
}
