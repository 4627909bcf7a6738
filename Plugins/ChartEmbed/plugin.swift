import Foundation
import PackagePlugin

/// Embeds Debian's Chart.js (libjs-chart.js) in the Reports module as a Swift string, so every HTML
/// report carries the library inside itself and opens from file:// without fetching anything, and
/// the archbench binary needs no JavaScript file beside it at run time.
@main
struct ChartEmbed: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let library = URL(fileURLWithPath: "/usr/share/javascript/chart.js/chart.min.js")
        let script = context.package.directoryURL.appending(path: "Plugins/ChartEmbed/embed.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "ChartJS.swift")
        return [.buildCommand(
            displayName: "Embedding Chart.js",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: [script.path, library.path, output.path],
            inputFiles: [library, script],
            outputFiles: [output]
        )]
    }
}
