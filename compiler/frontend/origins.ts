// A TypeScript transform that lets an evaluated module say where each of its
// values was written. Object literals are tagged with their own position and
// their keys' positions; array elements that are not literals (a preset, a
// helper call, a spread) are tagged with the element's position, so a mount
// that comes from `...defaultMounts` points at that line. The positions are
// taken from the original source before any rewriting, so they are exact.
//
// The tags are kept by the sandbox (see sandbox.ts: __ctc.o, __ctc.e, __ctc.s).

import ts from 'typescript';

export function originsTransformer(file: string): ts.TransformerFactory<ts.SourceFile> {
  return (context) => {
    const f = context.factory;
    const pos = (sf: ts.SourceFile, node: ts.Node) => {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      return f.createStringLiteral(`${file}:${line + 1}:${character + 1}`);
    };
    const helper = (name: string, args: ts.Expression[]) =>
      f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier('__ctc'), name), undefined, args);

    return (sf) => {
      const visit = (node: ts.Node): ts.Node => {
        if (ts.isObjectLiteralExpression(node)) {
          const props: ts.Expression[] = [];
          for (const p of node.properties) {
            const key = p.name && propertyKey(p.name);
            if (key !== undefined) props.push(f.createArrayLiteralExpression([f.createStringLiteral(key), pos(sf, p)]));
          }
          const inner = ts.visitEachChild(node, visit, context);
          return helper('o', [inner, pos(sf, node), f.createArrayLiteralExpression(props)]);
        }
        if (ts.isArrayLiteralExpression(node)) {
          const elements = node.elements.map((el) => {
            if (ts.isSpreadElement(el)) {
              return f.createSpreadElement(helper('s', [ts.visitNode(el.expression, visit) as ts.Expression, pos(sf, el)]));
            }
            const inner = ts.visitNode(el, visit) as ts.Expression;
            return isLiteral(el) ? inner : helper('e', [inner, pos(sf, el)]);
          });
          return f.updateArrayLiteralExpression(node, elements);
        }
        return ts.visitEachChild(node, visit, context);
      };
      return ts.visitEachChild(sf, visit, context);
    };
  };
}

function propertyKey(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

/** Elements whose position adds nothing to what their own tags or the array's say. */
function isLiteral(el: ts.Expression): boolean {
  return ts.isObjectLiteralExpression(el) || ts.isStringLiteralLike(el) || ts.isNumericLiteral(el) || ts.isArrayLiteralExpression(el);
}
