/** QR codes as SVG, drawn by the server from the encoder's module matrix (no client library). */
import qrcode from "qrcode-generator";

/** An SVG QR code of `text` (error correction M, 4-module quiet zone), one path of dark modules. */
export function qrSvg(text: string, quiet = 4): string {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  let d = "";
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!qr.isDark(y, x)) continue;
      // merge a horizontal run of dark modules into one rectangle
      let run = 1;
      while (x + run < n && qr.isDark(y, x + run)) run++;
      d += `M${x + quiet} ${y + quiet}h${run}v1h-${run}z`;
      x += run - 1;
    }
  }
  const size = n + quiet * 2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path fill="#10302a" d="${d}"/></svg>`
  );
}
