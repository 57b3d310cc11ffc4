// Runs the CLI given as argv[2] with the rest of argv, then prints its peak RSS on stderr.
process.on('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
const [cli, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], cli, ...rest];
await import(cli);
