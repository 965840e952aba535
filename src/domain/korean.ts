// Korean names and their romanisation for e-mail local parts.
import type { Rng } from "./random.ts";

// Share (%) of the most common surnames, Statistics Korea 2015 census; the remaining ~22 % is drawn
// from the fake-data library's longer list.
export const COMMON_SURNAMES: readonly { name: string; roman: string; share: number }[] = [
  { name: "김", roman: "kim", share: 21.5 },
  { name: "이", roman: "lee", share: 14.7 },
  { name: "박", roman: "park", share: 8.4 },
  { name: "최", roman: "choi", share: 4.7 },
  { name: "정", roman: "jung", share: 4.3 },
  { name: "강", roman: "kang", share: 2.3 },
  { name: "조", roman: "cho", share: 2.1 },
  { name: "윤", roman: "yoon", share: 2.1 },
  { name: "장", roman: "jang", share: 2.0 },
  { name: "임", roman: "lim", share: 1.7 },
  { name: "한", roman: "han", share: 1.5 },
  { name: "오", roman: "oh", share: 1.5 },
  { name: "서", roman: "seo", share: 1.5 },
  { name: "신", roman: "shin", share: 1.5 },
  { name: "권", roman: "kwon", share: 1.4 },
  { name: "황", roman: "hwang", share: 1.4 },
  { name: "안", roman: "ahn", share: 1.4 },
  { name: "송", roman: "song", share: 1.3 },
  { name: "전", roman: "jeon", share: 1.3 },
  { name: "홍", roman: "hong", share: 1.1 },
];
const COMMON_SHARE = COMMON_SURNAMES.reduce((s, x) => s + x.share, 0);
const ROMAN_SURNAME = new Map(COMMON_SURNAMES.map((s) => [s.name, s.roman]));

/** A weighted common surname, or undefined when the draw falls in the long tail. */
export function drawCommonSurname(rng: Rng): string | undefined {
  let r = rng.next() * 100;
  if (r >= COMMON_SHARE) return undefined;
  for (const s of COMMON_SURNAMES) {
    r -= s.share;
    if (r < 0) return s.name;
  }
  return undefined;
}

// Revised Romanization, letter by letter (no sound-change rules: good enough for an e-mail handle).
const INITIALS = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"];
const MEDIALS = [
  "a",
  "ae",
  "ya",
  "yae",
  "eo",
  "e",
  "yeo",
  "ye",
  "o",
  "wa",
  "wae",
  "oe",
  "yo",
  "u",
  "wo",
  "we",
  "wi",
  "yu",
  "eu",
  "ui",
  "i",
];
const FINALS = [
  "",
  "k",
  "k",
  "k",
  "n",
  "n",
  "n",
  "t",
  "l",
  "k",
  "m",
  "l",
  "l",
  "l",
  "p",
  "l",
  "m",
  "p",
  "p",
  "t",
  "t",
  "ng",
  "t",
  "t",
  "k",
  "t",
  "p",
  "t",
];

export function romanize(hangul: string): string {
  let out = "";
  for (const ch of hangul) {
    const code = ch.charCodeAt(0) - 0xac00;
    if (code < 0 || code > 11171) {
      if (/[a-z0-9]/i.test(ch)) out += ch.toLowerCase();
      continue;
    }
    out += INITIALS[Math.floor(code / 588)]! + MEDIALS[Math.floor((code % 588) / 28)]! + FINALS[code % 28]!;
  }
  return out;
}

/** Surnames by their conventional spelling (Kim, Lee, Park), others by Revised Romanization. */
export function romanizeSurname(surname: string): string {
  return ROMAN_SURNAME.get(surname) ?? romanize(surname);
}
