import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * zod/mini registers no locale, so without this every issue zod words itself would read just
 * "Invalid input". English, as classic zod has it by default: the 400s and configuration errors
 * name the field and say what is wrong ("Invalid input: expected string, received number").
 * Imported for its side effect by the modules every schema depends on (config, payload, FC events).
 */
config(en());
