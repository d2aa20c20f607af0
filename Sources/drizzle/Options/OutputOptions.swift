import ArgumentParser

/// `--format table|csv`, shared by every command that prints a table.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: table or csv.")
    var format: Table.Format = .table
}

extension Table.Format: ExpressibleByArgument {}
