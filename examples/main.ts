/** `npm start`: the customer-support handoff example (offline unless OPENAI_API_KEY is set). */
import { main } from './customer-support/main.js';

process.exitCode = await main();
