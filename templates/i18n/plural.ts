/**
 * The one plural rule of the UI: Russian nouns after a count take one of three forms (1 запрос,
 * 4 запроса, 5 запросов, 11 запросов, 21 запрос), chosen by `Intl.PluralRules("ru")`; English by
 * `Intl.PluralRules("en")`. Every dictionary line with a count goes through `ru`/`en` here.
 */
const RU = new Intl.PluralRules("ru");
const EN = new Intl.PluralRules("en");

/** "4 запроса": the count and the noun in the form the count asks for. */
export function ruCount(n: number, one: string, few: string, many: string): string {
  return `${n} ${ruForm(n, one, few, many)}`;
}

/** Only the noun's form for `n` ("запроса" for 4). */
export function ruForm(n: number, one: string, few: string, many: string): string {
  const form = RU.select(n);
  return form === "one" ? one : form === "few" ? few : many;
}

/** "1 request", "4 requests". */
export function enCount(n: number, one: string, other: string): string {
  return `${n} ${EN.select(n) === "one" ? one : other}`;
}
