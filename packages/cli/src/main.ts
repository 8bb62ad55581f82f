console.error("resonate CLI: not written yet"); process.exitCode = 1;
