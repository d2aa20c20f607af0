import ArgumentParser
import BitDrizzle

/// `--format table|csv`, shared by every command that prints a table.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: table or csv.")
    var format: Table.Format = .table
}

extension Table.Format: ExpressibleByArgument {}

/// `--event-order total|arrival` of the commands that run an event handler.
enum EventOrderOption: String, ExpressibleByArgument, CaseIterable {
    case total, arrival

    var delivery: EventDelivery { self == .arrival ? .arrival : .totalOrder }
}
